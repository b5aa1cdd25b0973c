package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/server/drafts"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// AI is the drafts service (server/drafts.Service) as the API uses it.
type AI interface {
	// Start starts a draft of the conversation's reply and returns its id.
	Start(ctx context.Context, workspaceID, conversationID int64) (string, error)
	// SealKey seals a workspace's model API key for storage.
	SealKey(workspaceID int64, key string) ([]byte, error)
	// CancelWorkspace and CancelContact stop the drafts running or queued
	// for a workspace or a contact whose AI processing was turned off.
	CancelWorkspace(workspaceID int64)
	CancelContact(workspaceID, contactID int64)
}

// aiSettingsView is the JSON of the AI settings: the API key is never
// shown, only whether one is set.
type aiSettingsView struct {
	store.AISettings
	APIKeySet bool `json:"api_key_set"`
}

func viewAISettings(s store.AISettings) aiSettingsView {
	return aiSettingsView{AISettings: s, APIKeySet: len(s.APIKey) > 0}
}

// getAISettings serves GET /api/v1/ai/settings.
func (h *handler) getAISettings(w http.ResponseWriter, r *http.Request) {
	s, err := h.store.AISettings(r.Context(), principal(r).Workspace.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewAISettings(s))
}

// aiSettingsRequest is the body of PUT /api/v1/ai/settings: fields left
// out keep their value. api_key is write-only: a string sets it, "" or
// null removes it (the server's default key applies).
type aiSettingsRequest struct {
	Enabled      *bool           `json:"enabled"`
	Provider     *string         `json:"provider"`
	BaseURL      *string         `json:"base_url"`
	Model        *string         `json:"model"`
	APIKey       json.RawMessage `json:"api_key"`
	Instructions *string         `json:"instructions"`
	BrandVoice   *string         `json:"brand_voice"`
	Redact       *bool           `json:"redact"`
	// UpdatedAt and APIKeySet are what GET answers; accepted so a client
	// can PUT back what it read, and ignored.
	UpdatedAt *time.Time `json:"updated_at"`
	APIKeySet *bool      `json:"api_key_set"`
}

// putAISettings serves PUT /api/v1/ai/settings: turn drafts on or off,
// choose the provider (offline or openai), the endpoint, model and key,
// the instructions, brand voice and redaction. A key needs the server's
// SWITCHBOARD_SECRET_KEY to be sealed with (503 secret_key_unset
// otherwise).
func (h *handler) putAISettings(w http.ResponseWriter, r *http.Request) {
	var req aiSettingsRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	wsID := principal(r).Workspace.ID
	s, err := h.store.AISettings(r.Context(), wsID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	if req.Enabled != nil {
		s.Enabled = *req.Enabled
	}
	if req.Redact != nil {
		s.Redact = *req.Redact
	}
	set(&s.Provider, req.Provider)
	set(&s.BaseURL, req.BaseURL)
	set(&s.Model, req.Model)
	set(&s.Instructions, req.Instructions)
	set(&s.BrandVoice, req.BrandVoice)
	if req.APIKey != nil {
		key, err := optional[string](req.APIKey, "api_key", true)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		switch {
		case *key == "":
			s.APIKey = nil
		case len(*key) > 4096:
			h.fail(w, r, invalid("api_key", "longer than 4096 bytes"))
			return
		case h.ai == nil:
			h.fail(w, r, aiUnavailable())
			return
		default:
			if s.APIKey, err = h.ai.SealKey(wsID, *key); err != nil {
				h.fail(w, r, sealError(err))
				return
			}
		}
	}
	saved, err := h.store.SetAISettings(r.Context(), wsID, s)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !saved.Enabled && h.ai != nil {
		h.ai.CancelWorkspace(wsID)
	}
	h.auditAISettings(r, saved, req.APIKey != nil)
	writeJSON(w, http.StatusOK, viewAISettings(saved))
}

// auditAISettings records a change of the AI settings, without the key;
// a failure is logged, not answered: the change itself is committed.
func (h *handler) auditAISettings(r *http.Request, s store.AISettings, keyChanged bool) {
	p := principal(r)
	details, _ := json.Marshal(map[string]any{"enabled": s.Enabled, "provider": s.Provider, "base_url": s.BaseURL,
		"model": s.Model, "redact": s.Redact, "api_key_changed": keyChanged})
	if err := h.store.RecordAudit(r.Context(), p.Workspace.ID, store.AuditEntry{
		ActorID: p.Agent.ID, TokenID: p.TokenID, Action: store.AuditAISettingsUpdated,
		TargetKind: store.AuditTargetWorkspace, TargetID: p.Workspace.ID, Details: details,
	}); err != nil {
		h.log.ErrorContext(r.Context(), "api: audit ai settings change", "err", err, "workspace", p.Workspace.ID)
	}
}

// sealError translates a failure to seal an API key.
func sealError(err error) error {
	if errors.Is(err, drafts.ErrNoSecretKey) {
		return &requestError{status: http.StatusServiceUnavailable, code: "secret_key_unset",
			message: "the server has no SWITCHBOARD_SECRET_KEY to seal the API key with; set it, or use a local endpoint without a key", field: "api_key"}
	}
	return err
}

// aiUnavailable is the answer when the server runs no drafts service.
func aiUnavailable() error {
	return &requestError{status: http.StatusServiceUnavailable, code: "ai_unavailable", message: "AI drafts are not available on this server"}
}
