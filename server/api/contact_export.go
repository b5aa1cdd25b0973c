package api

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// MaxExportMessages bounds the messages of one contact export; a contact
// with more is answered 422 export_too_large (the workspace archive,
// GET /api/v1/export, has no such bound).
const MaxExportMessages = 100_000

// contactExport is the JSON form of GET /api/v1/contacts/{id}/export.
type contactExport struct {
	ExportedAt time.Time `json:"exported_at"`
	// Contact is the contact with its identities and attributes.
	Contact store.Contact `json:"contact"`
	// Consent is every opt-out, opt-in, ai_off and ai_on, oldest first,
	// with its time and channel.
	Consent []store.ConsentRecord `json:"consent"`
	// AIOffAt is when AI processing was turned off for the contact, while
	// it is off.
	AIOffAt *time.Time `json:"ai_off_at"`
	// Conversations are the contact's conversations, newest activity
	// first, each with its messages (notes about the contact included,
	// type "note"), oldest first, and its summary if one was made.
	Conversations []exportConversation `json:"conversations"`
}

type exportConversation struct {
	store.Conversation
	Summary  *store.ConversationSummary `json:"summary"`
	Messages []exportMessage            `json:"messages"`
}

// exportMessage is a message whose media carry the URL of their bytes.
type exportMessage struct {
	store.Message
	Media []exportMedia `json:"media,omitempty"`
}

type exportMedia struct {
	store.MediaRef
	// URL is where an authorized client reads the bytes.
	URL string `json:"url"`
}

// mediaURL is the API path of a media item's bytes.
func mediaURL(id int64) string { return Prefix + "/media/" + strconv.FormatInt(id, 10) }

// exportCSVHeader is the CSV form's columns: one row per message.
var exportCSVHeader = []string{"contact_id", "contact_name", "conversation_id", "inbox_id", "message_id", "created_at",
	"direction", "author_kind", "author_agent_id", "type", "status", "body", "media_urls"}

// exportContact serves GET /api/v1/contacts/{id}/export?format=json|csv:
// everything the workspace holds about the contact (identities,
// attributes, consent records, conversations with their messages, notes
// and summaries, media links) as one JSON document, or as CSV with one
// row per message (exportCSVHeader). Each export is recorded in the
// audit log as contact.exported (format and counts, nothing personal)
// before anything is sent.
func (h *handler) exportContact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		h.fail(w, r, invalid("format", "must be json or csv"))
		return
	}
	p := principal(r)
	ctx, ws := r.Context(), p.Workspace.ID
	c, err := h.store.Contact(ctx, ws, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := contactExport{ExportedAt: store.Now(), Contact: c, Conversations: []exportConversation{}}
	if out.Consent, err = h.store.ConsentRecords(ctx, ws, id); err != nil {
		h.fail(w, r, err)
		return
	}
	if out.Consent == nil {
		out.Consent = []store.ConsentRecord{}
	}
	if out.AIOffAt, err = h.store.ContactAIOffAt(ctx, ws, id); err != nil {
		h.fail(w, r, err)
		return
	}
	var messages, media int
	for cursor := ""; ; {
		page, err := h.store.ListConversations(ctx, ws, store.ConversationFilter{ContactID: id, Limit: store.MaxPageSize, Cursor: cursor})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, conv := range page.Conversations {
			ec := exportConversation{Conversation: conv, Messages: []exportMessage{}}
			sum, err := h.store.ConversationSummary(ctx, ws, conv.ID)
			switch {
			case err == nil:
				ec.Summary = &sum
			case !errors.Is(err, store.ErrNotFound):
				h.fail(w, r, err)
				return
			}
			for before := int64(0); ; {
				msgs, err := h.store.ListMessages(ctx, ws, conv.ID, store.MessageFilter{BeforeID: before, Limit: store.MaxPageSize})
				if err != nil {
					h.fail(w, r, err)
					return
				}
				for _, m := range msgs {
					em := exportMessage{Message: m}
					for _, ref := range m.Media {
						em.Media = append(em.Media, exportMedia{MediaRef: ref, URL: mediaURL(ref.ID)})
					}
					media += len(em.Media)
					ec.Messages = append(ec.Messages, em)
				}
				messages += len(msgs)
				if messages > MaxExportMessages {
					h.fail(w, r, exportTooLarge())
					return
				}
				if len(msgs) < store.MaxPageSize {
					break
				}
				before = msgs[len(msgs)-1].ID
			}
			slices.Reverse(ec.Messages) // oldest first
			out.Conversations = append(out.Conversations, ec)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}

	details, err := json.Marshal(map[string]any{"format": format, "conversations": len(out.Conversations), "messages": messages, "media": media})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.store.RecordAudit(ctx, ws, store.AuditEntry{ActorID: p.Agent.ID, TokenID: p.TokenID, Action: store.AuditContactExported,
		TargetKind: store.AuditTargetContact, TargetID: id, Details: details}); err != nil {
		h.fail(w, r, err)
		return
	}

	name := fmt.Sprintf("contact-%d.%s", id, format)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	if format == "json" {
		writeJSON(w, http.StatusOK, out)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write(exportCSVHeader)
	for _, conv := range out.Conversations {
		for _, m := range conv.Messages {
			var urls []string
			for _, md := range m.Media {
				urls = append(urls, md.URL)
			}
			agent := ""
			if m.AuthorAgentID != 0 {
				agent = strconv.FormatInt(m.AuthorAgentID, 10)
			}
			_ = cw.Write([]string{strconv.FormatInt(c.ID, 10), csvCell(c.Name), strconv.FormatInt(conv.ID, 10),
				strconv.FormatInt(m.InboxID, 10), strconv.FormatInt(m.ID, 10), m.CreatedAt.UTC().Format(time.RFC3339Nano),
				string(m.Direction), string(m.AuthorKind), agent, string(m.Type), string(m.Status), csvCell(m.Body), strings.Join(urls, " ")})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		h.log.WarnContext(ctx, "api: contact export cut short", "workspace", ws, "err", err)
	}
}

// csvCell defuses text a spreadsheet would run as a formula (a cell
// starting with =, +, -, @, tab or carriage return) by prefixing a
// single quote, as OWASP recommends for CSV exports.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// exportTooLarge is the answer for a contact with more than
// MaxExportMessages messages.
func exportTooLarge() error {
	return &requestError{status: http.StatusUnprocessableEntity, code: "export_too_large",
		message: fmt.Sprintf("the contact has more than %d messages: export the workspace archive instead", MaxExportMessages)}
}
