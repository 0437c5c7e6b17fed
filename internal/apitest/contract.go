package apitest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/aimsg/aimsg/api"
)

// contract is a router over the API's OpenAPI document: every answer a test
// receives through Client is checked against the document, so the tests of
// the API and the end-to-end tests prove the document true.
var contract = sync.OnceValues(func() (routers.Router, error) {
	for _, media := range []string{"text/xml", "text/event-stream", "text/html", "*/*"} {
		openapi3filter.RegisterBodyDecoder(media, openapi3filter.PlainBodyDecoder)
	}
	doc, err := api.OpenAPI()
	if err != nil {
		return nil, err
	}
	return legacy.NewRouter(doc)
})

// CheckResponse validates an answer to req against the OpenAPI document:
// its status must be documented for the operation and its body must match
// the schema. Requests outside the document (unknown paths and methods,
// files below /app and /docs in subfolders; the router test covers the
// routes) are not checked.
func CheckResponse(req *http.Request, status int, header http.Header, body []byte) error {
	router, err := contract()
	if err != nil {
		return fmt.Errorf("load the OpenAPI document: %w", err)
	}
	route, params, err := router.FindRoute(req)
	var outside *routers.RouteError // no such path or method
	if errors.As(err, &outside) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find the route of %s %s: %w", req.Method, req.URL, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s answered %d against the OpenAPI document: %w", req.Method, req.URL.Path, status, err)
	}
	return nil
}

// checkContract fails the test (and carries on) when an answer breaks the
// document.
func checkContract(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if err := CheckResponse(req, status, header, body); err != nil {
		t.Errorf("%v\nbody: %.500s", err, body)
	}
}
