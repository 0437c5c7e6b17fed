package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/binding"
	"github.com/go-playground/validator/v10"

	"github.com/aimsg/aimsg/domain"
)

// fieldError is one entry of a 422 body, in the shape FastAPI clients know:
// {"detail": [{"loc": ["body", "password"], "msg": "...", "type": "..."}]}.
type fieldError struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

type validationBody struct {
	Detail []fieldError `json:"detail"`
}

// invalidInput answers 422 with the given field errors.
func invalidInput(c *gin.Context, errs ...fieldError) {
	c.AbortWithStatusJSON(http.StatusUnprocessableEntity, validationBody{Detail: errs})
}

// bodyError is a problem with one field of the request body.
func bodyError(field, msg, typ string) fieldError {
	return fieldError{Loc: []any{"body", field}, Msg: msg, Type: typ}
}

var registerJSONNames sync.Once

// useJSONNames makes the validator name fields as the client spells them.
func useJSONNames() {
	registerJSONNames.Do(func() {
		v, ok := binding.Validator.Engine().(*validator.Validate)
		if !ok {
			return
		}
		v.RegisterTagNameFunc(func(f reflect.StructField) string {
			for _, tag := range []string{"json", "form"} {
				if name, _, _ := strings.Cut(f.Tag.Get(tag), ","); name != "" && name != "-" {
					return name
				}
			}
			return f.Name
		})
	})
}

// bind decodes and validates the request body into dst: JSON, or a form
// when the client sends one (OAuth2 password login). On failure it answers
// 422 (413 for an oversized body) and returns false.
func (s *Server) bind(c *gin.Context, dst any) bool {
	var err error
	switch c.ContentType() {
	case binding.MIMEPOSTForm, binding.MIMEMultipartPOSTForm:
		err = c.ShouldBindWith(dst, binding.Form)
	default:
		err = c.ShouldBindJSON(dst)
	}
	if err == nil {
		if fe, bad := badText(reflect.ValueOf(dst), []any{"body"}); bad {
			invalidInput(c, fe)
			return false
		}
		return true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		abort(c, http.StatusRequestEntityTooLarge, "Request body too large")
		return false
	}
	invalidInput(c, describeBindError(err)...)
	return false
}

func describeBindError(err error) []fieldError {
	var (
		verrs   validator.ValidationErrors
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &verrs):
		out := make([]fieldError, 0, len(verrs))
		for _, fe := range verrs {
			out = append(out, describeFieldError(fe))
		}
		return out
	case errors.Is(err, io.EOF):
		return []fieldError{{Loc: []any{"body"}, Msg: "Field required", Type: "missing"}}
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return []fieldError{{Loc: []any{"body"}, Msg: "JSON decode error", Type: "json_invalid"}}
	case errors.As(err, &typeErr):
		return []fieldError{bodyError(typeErr.Field, "Input should be a valid "+typeErr.Type.Kind().String(), "type_error")}
	}
	return []fieldError{{Loc: []any{"body"}, Msg: err.Error(), Type: "value_error"}}
}

func describeFieldError(fe validator.FieldError) fieldError {
	field := fe.Field()
	isString := fe.Kind() == reflect.String
	switch fe.Tag() {
	case "required":
		return bodyError(field, "Field required", "missing")
	case "min":
		if isString {
			return bodyError(field, "String should have at least "+fe.Param()+" characters", "string_too_short")
		}
		return bodyError(field, "Input should be greater than or equal to "+fe.Param(), "greater_than_equal")
	case "max":
		if isString {
			return bodyError(field, "String should have at most "+fe.Param()+" characters", "string_too_long")
		}
		return bodyError(field, "Input should be less than or equal to "+fe.Param(), "less_than_equal")
	case "email":
		return bodyError(field, "value is not a valid email address", "value_error")
	case "oneof":
		return bodyError(field, "Input should be one of: "+fe.Param(), "enum")
	}
	return bodyError(field, fmt.Sprintf("failed the %q check", fe.Tag()), "value_error")
}

// pathID reads a positive integer path parameter; otherwise 422.
func pathID(c *gin.Context, name string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		invalidInput(c, fieldError{Loc: []any{"path", name}, Msg: "Input should be a valid integer", Type: "int_parsing"})
		return 0, false
	}
	return id, true
}

// page reads limit and offset from the query string, with the defaults and
// the maximum of every list; out of range is 422.
func page(c *gin.Context) (domain.Page, bool) {
	p := domain.Page{Limit: domain.DefaultPageSize}
	for _, q := range []struct {
		name     string
		dst      *int
		min, max int
	}{
		{"limit", &p.Limit, 1, domain.MaxPageSize},
		{"offset", &p.Offset, 0, 1 << 30},
	} {
		raw, ok := c.GetQuery(q.name)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < q.min || n > q.max {
			invalidInput(c, fieldError{Loc: []any{"query", q.name},
				Msg: fmt.Sprintf("Input should be an integer from %d to %d", q.min, q.max), Type: "value_error"})
			return p, false
		}
		*q.dst = n
	}
	return p, true
}

// setTotal tells a client how many rows a paginated list has in all.
func setTotal(c *gin.Context, total int) {
	c.Header("X-Total-Count", strconv.Itoa(total))
}

// unstorableText is text no database column keeps.
func unstorableText(s string) bool { return !domain.StorableText(s) }

const unstorableMsg = "Text must be valid UTF-8 without NUL characters"

// badText finds the first string in a decoded body that no database can
// store, with its location for the 422 answer.
func badText(v reflect.Value, loc []any) (fieldError, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return badText(v.Elem(), loc)
		}
	case reflect.String:
		if unstorableText(v.String()) {
			return fieldError{Loc: loc, Msg: unstorableMsg, Type: "string_type"}, true
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			at := loc
			if !f.Anonymous {
				if name == "" {
					name = f.Name
				}
				at = append(slices.Clone(loc), name)
			}
			if fe, bad := badText(v.Field(i), at); bad {
				return fe, true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if fe, bad := badText(v.Index(i), append(slices.Clone(loc), i)); bad {
				return fe, true
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			if fe, bad := badText(v.MapIndex(k), append(slices.Clone(loc), fmt.Sprint(k.Interface()))); bad {
				return fe, true
			}
		}
	}
	return fieldError{}, false
}

// cleanQuery refuses query strings with text no database can store, before
// any handler passes them to a query.
func cleanQuery(c *gin.Context) {
	if c.Request.URL.RawQuery == "" {
		c.Next()
		return
	}
	for name, values := range c.Request.URL.Query() {
		for _, v := range values {
			if unstorableText(name) || unstorableText(v) {
				invalidInput(c, fieldError{Loc: []any{"query", strings.ToValidUTF8(name, "?")}, Msg: unstorableMsg, Type: "string_type"})
				return
			}
		}
	}
	c.Next()
}
