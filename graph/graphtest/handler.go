package graphtest

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/recgate/recgate/graph"
)

// route serves r; what it returns, if not nil, runs after the reply has
// been sent (a scripted notification).
func (s *Server) route(w http.ResponseWriter, r *http.Request, entry *Request) (after func(context.Context)) {
	switch r.URL.EscapedPath() {
	case openIDConfigPath, openIDConfigAlias, jwksPath:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, r, http.StatusMethodNotAllowed, "BadRequest", "key discovery takes GET")
			return
		}
		if r.URL.EscapedPath() == jwksPath {
			s.serveJWKS(w, r)
		} else {
			s.serveOpenIDConfig(w, r)
		}
		return
	}
	version, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if !ok || (version != "v1.0" && version != "beta") {
		writeError(w, r, http.StatusNotFound, "BadRequest", "Invalid version: use /v1.0 or /beta")
		return
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 4 || parts[0] != "communications" || parts[1] != "calls" {
		writeError(w, r, http.StatusNotFound, "BadRequest", "Resource not found for the segment")
		return
	}
	entry.CallID = parts[2]
	switch {
	case len(parts) == 4 && parts[3] == "updateRecordingStatus":
		if r.Method != http.MethodPost {
			writeError(w, r, http.StatusMethodNotAllowed, "BadRequest", "updateRecordingStatus takes POST")
			return
		}
		return s.update(w, r, version, parts[2], entry)
	case len(parts) == 5 && parts[3] == "operations":
		if r.Method != http.MethodGet {
			writeError(w, r, http.StatusMethodNotAllowed, "BadRequest", "operations take GET")
			return
		}
		s.getOperation(w, r, version, parts[2], parts[4], entry)
	default:
		writeError(w, r, http.StatusNotFound, "BadRequest", "Resource not found for the segment")
	}
	return
}

// bearerChallenge is the WWW-Authenticate Graph sends with every 401 (RFC
// 6750 requires one): where to get a token, and for which resource (client_id
// is Microsoft Graph's app ID). It carries no claims challenge, so the
// official SDKs, which retry a 401 once only for a claims challenge, do not
// retry.
const bearerChallenge = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		w.Header().Set("WWW-Authenticate", bearerChallenge)
		writeError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return false
	}
	if s.token != "" && tok != s.token {
		w.Header().Set("WWW-Authenticate", bearerChallenge)
		writeError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure.")
		return false
	}
	return true
}

type updateBody struct {
	ClientContext *string `json:"clientContext"`
	Status        *string `json:"status"`
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, version, callID string, entry *Request) (after func(context.Context)) {
	if !s.authorized(w, r) {
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, r, http.StatusUnsupportedMediaType, "BadRequest", "Content-Type must be application/json")
		return
	}
	body := io.Reader(io.LimitReader(r.Body, 1<<20))
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(body)
		if err != nil {
			writeError(w, r, http.StatusBadRequest, "BadRequest", "Content-Encoding gzip, but the body is not gzip")
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "BadRequest", "Could not read the request body")
		return
	}
	var ub updateBody
	if err := json.Unmarshal(raw, &ub); err != nil {
		writeError(w, r, http.StatusBadRequest, "BadRequest", "Request body is not valid JSON")
		return
	}
	if ub.ClientContext != nil {
		entry.ClientContext = *ub.ClientContext
	}
	if ub.Status != nil {
		entry.Status = *ub.Status
	}
	if ub.Status == nil {
		writeError(w, r, http.StatusBadRequest, "BadRequest", "status is required")
		return
	}
	if _, err := graph.ParseStatus(*ub.Status); err != nil {
		writeError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Requested value '%s' was not found.", *ub.Status))
		return
	}
	if ub.ClientContext == nil || *ub.ClientContext == "" {
		writeError(w, r, http.StatusBadRequest, "BadRequest", "clientContext is required")
		return
	}
	if utf8.RuneCountInString(*ub.ClientContext) > graph.MaxClientContextLen {
		writeError(w, r, http.StatusBadRequest, "BadRequest", "clientContext exceeds the maximum length of 256 characters")
		return
	}

	s.mu.Lock()
	c := s.calls[callID]
	if c == nil && s.anyCall {
		c = s.callLocked(callID)
	}
	var fault *Fault
	var nonCompliance, terminated bool
	status := "completed"
	if c != nil {
		c.requests++
		if f, ok := c.nth[c.requests]; ok {
			fault = &f
		} else if len(c.script) > 0 {
			f := c.script[0]
			c.script = c.script[1:]
			fault = &f
		}
		if fault != nil && fault.Kind == KindTerminate {
			c.terminated = true
		}
		nonCompliance, terminated = c.nonCompliance, c.terminated
		if c.status != "" {
			status = c.status
		}
	}
	s.mu.Unlock()

	if c == nil || terminated {
		if fault != nil {
			entry.Fault = fault.Kind
			after = c.followUp(fault, "")
		}
		writeError(w, r, http.StatusNotFound, "8501", "Call "+callID+" not found or already terminated.")
		return
	}
	if nonCompliance {
		writeError(w, r, http.StatusForbidden, graph.CodeNonComplianceCall, "API call not allowed for non-Compliance Recording call")
		return
	}
	if fault != nil {
		entry.Fault = fault.Kind
		if done := s.play(w, r, *fault); done {
			return c.followUp(fault, "")
		}
		switch fault.Kind {
		case KindStatus:
			status = fault.Status
		case KindPending:
			status = string(graph.OperationRunning)
			if fault.Status != "" {
				status = fault.Status
			}
		}
	}
	op := &graph.Operation{ODataType: graph.OperationODataType, ID: uuid.NewString(), ClientContext: *ub.ClientContext}
	if st, err := graph.ParseOperationStatus(status); err == nil && status != "null" {
		op.Status = st
	}
	if fault != nil && fault.ResultInfo != nil && fault.Kind != KindPending {
		ri := *fault.ResultInfo
		op.ResultInfo = &ri
	}
	s.mu.Lock()
	c.ops[op.ID] = op
	c.order = append(c.order, op.ID)
	s.mu.Unlock()
	after = c.followUp(fault, op.ID)
	entry.OperationStatus = status

	location := s.URL + "/" + version + "/communications/calls/" + callID + "/operations/" + op.ID
	if fault != nil && fault.Kind == KindLocation {
		switch fault.Location {
		case "missing":
			location = ""
		case "relative":
			location = "/" + version + "/communications/calls/" + callID + "/operations/" + op.ID
		case "http":
			location = strings.Replace(location, "https://", "http://", 1)
		case "foreign":
			location = s.foreign.URL + "/" + version + "/communications/calls/" + callID + "/operations/" + op.ID
		case "otherCall":
			location = s.URL + "/" + version + "/communications/calls/another-call/operations/" + op.ID
		}
	}
	if location != "" {
		w.Header().Set("Location", location)
	}
	s.writeOperation(w, r, op, status, fault)
	return after
}

func (s *Server) getOperation(w http.ResponseWriter, r *http.Request, version, callID, opID string, entry *Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	var op *graph.Operation
	c := s.calls[callID]
	if c != nil && !c.terminated {
		if o := c.ops[opID]; o != nil {
			copied := *o
			op = &copied
		}
	}
	s.mu.Unlock()
	if op == nil {
		writeError(w, r, http.StatusNotFound, "8501", "Operation not found.")
		return
	}
	status := string(op.Status)
	if status == "" {
		status = "null"
	}
	entry.OperationStatus = status
	w.Header().Set("Location", s.URL+"/"+version+"/communications/calls/"+callID+"/operations/"+opID)
	s.writeOperation(w, r, op, status, nil)
}

// writeOperation writes op as Graph does, with status spelled as given
// (so unknown values and null can be played) in the server's casing.
func (s *Server) writeOperation(w http.ResponseWriter, r *http.Request, op *graph.Operation, status string, fault *Fault) {
	body := map[string]any{
		"@odata.type":   op.ODataType,
		"clientContext": op.ClientContext,
		"id":            op.ID,
		"resultInfo":    op.ResultInfo,
	}
	switch {
	case status == "null":
		body["status"] = nil
	case s.pascal:
		body["status"] = strings.ToUpper(status[:1]) + status[1:]
	default:
		body["status"] = status
	}
	b, err := json.Marshal(body)
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, "InternalServerError", "graphtest: "+err.Error())
		return
	}
	b = append(b, '\n')
	setIDs(w, r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func setIDs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("request-id", uuid.NewString())
	crid := r.Header.Get("client-request-id")
	if crid == "" {
		crid = uuid.NewString()
	}
	w.Header().Set("client-request-id", crid)
	w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
}

// writeError writes Graph's error envelope.
func writeError(w http.ResponseWriter, r *http.Request, code int, errCode, message string) {
	setIDs(w, r)
	body := map[string]any{"error": map[string]any{
		"code":    errCode,
		"message": message,
		"innerError": map[string]any{
			"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        w.Header().Get("request-id"),
			"client-request-id": w.Header().Get("client-request-id"),
		},
	}}
	b, _ := json.Marshal(body) // strings and maps only: cannot fail
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
