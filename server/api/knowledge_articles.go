package api

import (
	"encoding/json"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// knowledgeArticleList is the body of GET /api/v1/knowledge_articles.
type knowledgeArticleList struct {
	KnowledgeArticles []store.KnowledgeArticle `json:"knowledge_articles"`
}

// listKnowledgeArticles serves GET /api/v1/knowledge_articles: the
// workspace's knowledge base, oldest first.
func (h *handler) listKnowledgeArticles(w http.ResponseWriter, r *http.Request) {
	list, err := h.store.ListKnowledgeArticles(r.Context(), principal(r).Workspace.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, knowledgeArticleList{KnowledgeArticles: list})
}

// getKnowledgeArticle serves GET /api/v1/knowledge_articles/{id}.
func (h *handler) getKnowledgeArticle(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.store.KnowledgeArticle(r.Context(), principal(r).Workspace.ID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

type knowledgeArticleRequest struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// createKnowledgeArticle serves POST /api/v1/knowledge_articles with
// {"title","body"}: 201 with the article, which drafts answer from as soon
// as the next draft starts; 409 once the workspace holds
// store.MaxKnowledgeArticles.
func (h *handler) createKnowledgeArticle(w http.ResponseWriter, r *http.Request) {
	var req knowledgeArticleRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.store.CreateKnowledgeArticle(r.Context(), principal(r).Workspace.ID, store.NewKnowledgeArticle{Title: req.Title, Body: req.Body})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// knowledgeArticlePatch is the body of PATCH
// /api/v1/knowledge_articles/{id}: absent fields are left alone, null is
// invalid.
type knowledgeArticlePatch struct {
	Title json.RawMessage `json:"title"`
	Body  json.RawMessage `json:"body"`
}

func (p knowledgeArticlePatch) update() (store.KnowledgeArticleUpdate, error) {
	var u store.KnowledgeArticleUpdate
	var err error
	if u.Title, err = optional[string](p.Title, "title", false); err != nil {
		return u, err
	}
	if u.Body, err = optional[string](p.Body, "body", false); err != nil {
		return u, err
	}
	if u == (store.KnowledgeArticleUpdate{}) {
		return u, invalid("", "nothing to change")
	}
	return u, nil
}

// updateKnowledgeArticle serves PATCH /api/v1/knowledge_articles/{id}
// with title and/or body.
func (h *handler) updateKnowledgeArticle(w http.ResponseWriter, r *http.Request) {
	servePatch(h, w, r, &knowledgeArticlePatch{}, h.store.UpdateKnowledgeArticle, nil)
}

// deleteKnowledgeArticle serves DELETE /api/v1/knowledge_articles/{id}:
// 204.
func (h *handler) deleteKnowledgeArticle(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.store.DeleteKnowledgeArticle(r.Context(), principal(r).Workspace.ID, id); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
