package apitest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"testing"

	"github.com/stretchr/testify/require"
)

// File is a file of an upload or a zip: its name and content, and in an
// upload the content type its part declares (application/octet-stream
// when empty).
type File struct{ Name, Content, Type string }

// Upload is a multipart/form-data body of files, in the field "files",
// with the other form fields of fields (name, value, ...), and the tweak
// that sets its Content-Type.
func Upload(t testing.TB, files []File, fields ...string) (string, func(*http.Request)) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range files {
		typ := f.Type
		if typ == "" {
			typ = "application/octet-stream"
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files"; filename=%q`, f.Name))
		h.Set("Content-Type", typ)
		w, err := mw.CreatePart(h)
		require.NoError(t, err)
		_, err = w.Write([]byte(f.Content))
		require.NoError(t, err)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		require.NoError(t, mw.WriteField(fields[i], fields[i+1]))
	}
	require.NoError(t, mw.Close())
	return b.String(), Header("Content-Type", mw.FormDataContentType())
}

// Zip is a zip archive of files.
func Zip(t testing.TB, files ...File) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.Create(f.Name)
		require.NoError(t, err)
		_, err = w.Write([]byte(f.Content))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return b.String()
}
