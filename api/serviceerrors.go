package api

import (
	"errors"
	"net/http"

	"yorozu/api/httpx"
	"yorozu/domain/diagnosis"
	"yorozu/domain/mailmagazine"
	"yorozu/domain/webfiltering"
)

// ruleProblem is a refusal by a named business rule: its code is the problem type's slug and a
// "code" member, so clients can test either.
func ruleProblem(status int, code, title string, err error) *httpx.Problem {
	p := httpx.NewProblem(status, code, title, err.Error())
	p.Extensions = map[string]any{"code": code}
	return p
}

// registerServiceErrors maps the errors of web filtering, the diagnosis and the mail magazine
// (called from newErrorMapper).
func registerServiceErrors(m *httpx.ErrorMapper) {
	for _, rule := range []struct {
		err    error
		status int
		code   string
		title  string
	}{
		{webfiltering.ErrOptionNotInEffect, http.StatusConflict, "optionNotInEffect", "The web-filtering option is not in effect"},
		{webfiltering.ErrContractTerminated, http.StatusConflict, "contractTerminated", "The contract is terminated"},
		{webfiltering.ErrInOtherList, http.StatusConflict, "entryInOtherList", "Already on the other list"},
		{webfiltering.ErrTooManyEntries, http.StatusConflict, "tooManyEntries", "The list is full"},
		{diagnosis.ErrNoQuestionnaire, http.StatusConflict, "noQuestionnaire", "No questionnaire has been published"},
	} {
		m.RegisterFunc(func(err error) (*httpx.Problem, bool) {
			if !errors.Is(err, rule.err) {
				return nil, false
			}
			return ruleProblem(rule.status, rule.code, rule.title, err), true
		})
	}
	m.RegisterFunc(func(err error) (*httpx.Problem, bool) {
		var soon *diagnosis.TooSoonError
		if !errors.As(err, &soon) {
			return nil, false
		}
		p := ruleProblem(http.StatusConflict, "tooSoon", "One diagnosis per six months", err)
		p.Extensions["nextAllowedOn"] = soon.NextAllowedOn.String()
		p.Extensions["previousAnsweredOn"] = soon.Previous.String()
		return p, true
	})
	m.RegisterFunc(func(err error) (*httpx.Problem, bool) {
		var ve *diagnosis.ValidationError
		if !errors.As(err, &ve) {
			return nil, false
		}
		var p *httpx.Problem
		if errors.Is(err, diagnosis.ErrContractNotActive) {
			p = ruleProblem(http.StatusUnprocessableEntity, "contractNotActive", "The contract was not active", err)
		} else {
			p = httpx.NewProblem(http.StatusUnprocessableEntity, "validation-failed", "The request is not valid", "Fields break the rules; nothing was stored.")
		}
		for _, f := range ve.Errors {
			p.Errors = append(p.Errors, httpx.FieldError{Field: f.Field, Code: f.Code, Message: f.Message})
		}
		return p, true
	})
	m.RegisterFunc(func(err error) (*httpx.Problem, bool) {
		var ve *mailmagazine.ValidationError
		if !errors.As(err, &ve) {
			return nil, false
		}
		p := httpx.NewProblem(http.StatusUnprocessableEntity, "validation-failed", "The request is not valid", "Fields break the rules; nothing was stored.")
		for _, f := range ve.Errors {
			p.Errors = append(p.Errors, httpx.FieldError{Field: f.Field, Code: f.Code, Message: f.Message})
		}
		return p, true
	})
	m.RegisterFunc(func(err error) (*httpx.Problem, bool) {
		if !errors.Is(err, webfiltering.ErrNotAllowListable) && !errors.Is(err, webfiltering.ErrUnknownItem) && !errors.Is(err, webfiltering.ErrMalformedURL) {
			return nil, false
		}
		field, code := "item", "notAllowListable"
		switch {
		case errors.Is(err, webfiltering.ErrUnknownItem):
			code = "unknownItem"
		case errors.Is(err, webfiltering.ErrMalformedURL):
			field, code = "url", "invalidUrl"
		}
		p := httpx.NewProblem(http.StatusUnprocessableEntity, "validation-failed", "The request is not valid", err.Error())
		p.Errors = []httpx.FieldError{{Field: field, Code: code, Message: err.Error()}}
		return p, true
	})
	m.Register(webfiltering.ErrEntryNotFound, http.StatusNotFound, "entry-not-found", "Entry not found")
	m.Register(diagnosis.ErrNotFound, http.StatusNotFound, "diagnosis-not-found", "Diagnosis not found")
	m.Register(mailmagazine.ErrNotFound, http.StatusNotFound, "issue-not-found", "Issue not found")
}
