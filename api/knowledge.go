package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/knowledge"
)

// The knowledge base's management routes, for holders of PermKnowledge.
// The assistant's own searches go through its tool, not through here.

type articleRequest struct {
	Title string `json:"title" binding:"max=300"`
	Body  string `json:"body" binding:"required"`
	// URL is where the article is published: http or https.
	URL        *string `json:"url" binding:"omitempty,max=2048"`
	Collection string  `json:"collection" binding:"max=100"`
	// Format is how body is written: markdown (the default), html or text.
	Format string `json:"format" binding:"omitempty,oneof=markdown html text"`
}

// newArticle converts the request's body to markdown (an HTML or text
// body) and fills in what the body itself says (an HTML page's title and
// canonical URL) where the request leaves it out.
func (s *Server) newArticle(c *gin.Context, in articleRequest) (domain.NewArticle, bool) {
	format := in.Format
	if format == "" {
		format = "markdown"
	}
	doc := knowledge.Document{Title: in.Title, Body: in.Body}
	if format != "markdown" || strings.TrimSpace(in.Title) == "" {
		var err error
		if doc, err = knowledge.Convert("article", []byte(in.Body), format); err != nil {
			invalidInput(c, fieldError{Loc: []any{"body", "body"}, Msg: domain.Reason(err), Type: "value_error"})
			return domain.NewArticle{}, false
		}
		if t := strings.TrimSpace(in.Title); t != "" {
			doc.Title = t
		}
	}
	url := in.URL
	if (url == nil || strings.TrimSpace(*url) == "") && doc.URL != "" {
		url = &doc.URL
	}
	if url != nil && strings.TrimSpace(*url) != "" && !domain.WebURL(strings.TrimSpace(*url)) {
		invalidInput(c, fieldError{Loc: []any{"body", "url"}, Msg: "url must be an absolute http or https URL", Type: "value_error"})
		return domain.NewArticle{}, false
	}
	return domain.NewArticle{Collection: in.Collection, Title: doc.Title, URL: url, Body: doc.Body,
		Language: s.cfg.KnowledgeLanguage, UpdatedBy: &currentUser(c).ID}, true
}

// articleChanges is what the audit log keeps of an article write.
func articleChanges(a *domain.Article) map[string]any {
	return map[string]any{"title": a.Title, "collection": a.Collection, "url": a.URL, "source": a.Source}
}

func (s *Server) createArticle(c *gin.Context) {
	var in articleRequest
	if !s.bind(c, &in) {
		return
	}
	na, ok := s.newArticle(c, in)
	if !ok {
		return
	}
	a, err := domain.CreateArticle(c.Request.Context(), s.db, na)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, domain.AuditArticleCreate, "article", a.ID, articleChanges(a))
	c.JSON(http.StatusCreated, a)
}

func (s *Server) replaceArticle(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	var in articleRequest
	if !s.bind(c, &in) {
		return
	}
	na, ok := s.newArticle(c, in)
	if !ok {
		return
	}
	a, err := domain.ReplaceArticle(c.Request.Context(), s.db, id, na)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, domain.AuditArticleReplace, "article", a.ID, articleChanges(a))
	c.JSON(http.StatusOK, a)
}

func (s *Server) getArticle(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	ctx := c.Request.Context()
	a, err := domain.ArticleByID(ctx, s.db, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if a.PassageCount, err = domain.CountPassages(ctx, s.db, id); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

func (s *Server) deleteArticle(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	ctx := c.Request.Context()
	a, err := domain.ArticleByID(ctx, s.db, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := domain.DeleteArticle(ctx, s.db, id); err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, domain.AuditArticleDelete, "article", id, articleChanges(a))
	c.JSON(http.StatusOK, messageResponse{Message: "Article deleted"})
}

func (s *Server) listArticles(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	f := domain.ArticleFilter{Collection: c.Query("collection"), Q: c.Query("q"), Page: p}
	if fe, bad := badQueryText(c, "collection", "q"); bad {
		invalidInput(c, fe)
		return
	}
	articles, total, err := domain.ListArticles(c.Request.Context(), s.db, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	setTotal(c, total)
	c.JSON(http.StatusOK, articles)
}

// badQueryText finds a query parameter no database can compare: invalid
// UTF-8 or a NUL.
func badQueryText(c *gin.Context, names ...string) (fieldError, bool) {
	for _, n := range names {
		if !domain.StorableText(c.Query(n)) {
			return fieldError{Loc: []any{"query", n}, Msg: "must be valid UTF-8 without NUL characters", Type: "value_error"}, true
		}
	}
	return fieldError{}, false
}

func (s *Server) searchKnowledge(c *gin.Context) {
	sq := domain.SearchQuery{Text: c.Query("q"), Language: s.cfg.KnowledgeLanguage}
	if raw, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > domain.MaxSearchLimit {
			invalidInput(c, fieldError{Loc: []any{"query", "limit"},
				Msg: fmt.Sprintf("Input should be an integer from 1 to %d", domain.MaxSearchLimit), Type: "value_error"})
			return
		}
		sq.Limit = n
	}
	if col := c.Query("collection"); col != "" {
		sq.Collections = []string{col}
	}
	if fe, bad := badQueryText(c, "collection"); bad {
		invalidInput(c, fe)
		return
	}
	hits, err := domain.SearchKnowledge(c.Request.Context(), s.db, sq)
	if errors.Is(err, domain.ErrInvalid) {
		invalidInput(c, fieldError{Loc: []any{"query", "q"}, Msg: domain.Reason(err), Type: "value_error"})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, hits)
}

// importFormSchema is POST /knowledge/import's multipart body: files
// (.md, .markdown, .html, .htm or .txt, or .zip archives of them) and a
// collection.
var importFormSchema = openapi3.NewObjectSchema().
	WithProperty("files", openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema().WithFormat("binary"))).
	WithProperty("collection", openapi3.NewStringSchema().WithMaxLength(100)).
	WithRequired([]string{"files"})

// uploadTooLarge tells a client its import passed the limit.
func uploadTooLarge(limit int64) string {
	return fmt.Sprintf("The upload is larger than %d MB (KNOWLEDGE_MAX_UPLOAD_MB)", limit>>20)
}

// maxImportFiles bounds the files of one import request (a zip counts one).
const maxImportFiles = 200

func (s *Server) importKnowledge(c *gin.Context) {
	// The body was limited to KNOWLEDGE_MAX_UPLOAD_MB by the route.
	form, ok := multipartForm(c, uploadTooLarge(s.cfg.KnowledgeMaxUpload))
	if !ok {
		return
	}
	defer func() { _ = form.RemoveAll() }()
	headers := form.File["files"]
	switch {
	case len(headers) == 0:
		invalidInput(c, fieldError{Loc: []any{"body", "files"}, Msg: "no file was sent (field \"files\")", Type: "missing"})
		return
	case len(headers) > maxImportFiles:
		invalidInput(c, fieldError{Loc: []any{"body", "files"}, Msg: fmt.Sprintf("at most %d files per request", maxImportFiles), Type: "value_error"})
		return
	}
	files := make([]knowledge.File, 0, len(headers))
	for _, h := range headers {
		f, err := h.Open()
		if err != nil {
			s.fail(c, fmt.Errorf("open upload %q: %w", h.Filename, err))
			return
		}
		data, err := io.ReadAll(f)
		_ = f.Close()
		if err != nil {
			s.fail(c, fmt.Errorf("read upload %q: %w", h.Filename, err))
			return
		}
		files = append(files, knowledge.File{Name: h.Filename, Data: data})
	}
	var collection string
	if v := form.Value["collection"]; len(v) > 0 {
		collection = v[0]
	}
	res, err := knowledge.Import(c.Request.Context(), s.db, files, knowledge.Options{
		Collection: collection, Language: s.cfg.KnowledgeLanguage, UpdatedBy: &currentUser(c).ID,
		MaxTotalBytes: s.cfg.KnowledgeMaxUpload})
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, st := range res.Created {
		s.audit(c, domain.AuditArticleCreate, "article", st.ArticleID, map[string]any{"title": st.Title, "file": st.File})
	}
	for _, st := range res.Replaced {
		s.audit(c, domain.AuditArticleReplace, "article", st.ArticleID, map[string]any{"title": st.Title, "file": st.File})
	}
	if len(res.Created)+len(res.Replaced) == 0 {
		// Nothing could be imported: the client's mistake, each file's
		// reason in the answer.
		errs := make([]fieldError, len(res.Refused))
		for i, r := range res.Refused {
			errs[i] = fieldError{Loc: []any{"body", "files", r.File}, Msg: r.Reason, Type: "value_error"}
		}
		invalidInput(c, errs...)
		return
	}
	c.JSON(http.StatusOK, res)
}
