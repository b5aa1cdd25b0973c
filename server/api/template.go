package api

import (
	"encoding/json"
	"regexp"
	"strings"
)

// templateRequest is a WhatsApp message template to send: an approved
// template's name and language, and its body's {{1}}, {{2}}… values.
type templateRequest struct {
	Name       string   `json:"name"`
	Language   string   `json:"language"`
	Parameters []string `json:"parameters"`
}

// Bounds of a template request; Meta's own limits are close to these.
const (
	maxTemplateParameters = 20
	maxTemplateParamBytes = 1024
)

var (
	templateName     = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	templateLanguage = regexp.MustCompile(`^[a-z]{2,3}(_[A-Za-z]{2,4})?$`)
)

// content validates t and returns the message's content and a body an
// agent can read in the conversation.
func (t *templateRequest) content() (json.RawMessage, string, error) {
	switch {
	case t == nil:
		return nil, "", invalid("template", "required for a template message: {name, language, parameters}")
	case !templateName.MatchString(t.Name):
		return nil, "", invalid("template.name", "must be an approved template's name: lowercase letters, digits and underscores")
	case !templateLanguage.MatchString(t.Language):
		return nil, "", invalid("template.language", "must be a language code such as en or en_US")
	case len(t.Parameters) > maxTemplateParameters:
		return nil, "", invalid("template.parameters", "at most 20")
	}
	for _, p := range t.Parameters {
		if strings.TrimSpace(p) == "" || len(p) > maxTemplateParamBytes {
			return nil, "", invalid("template.parameters", "each must be non-blank and at most 1024 bytes")
		}
	}
	if t.Parameters == nil {
		t.Parameters = []string{}
	}
	content, err := json.Marshal(struct {
		Template *templateRequest `json:"template"`
	}{t})
	if err != nil {
		return nil, "", err
	}
	body := "[template " + t.Name + "]"
	if len(t.Parameters) > 0 {
		body += " " + strings.Join(t.Parameters, " · ")
	}
	return content, body, nil
}
