// Package logs builds the service's structured loggers: JSON on stdout plus,
// per area (auth, twilio webhook, messages, reports, support), a rotating file in the
// logs folder, as docs/configuration.md lists them (AI_MESSAGE_LOGS_FOLDER).
package logs

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"gopkg.in/natefinch/lumberjack.v2"
)

// Rotation limits from the spec: 1 MB a file, 50 backups.
const (
	maxFileMB  = 1
	maxBackups = 50
	fileMode   = 0o750
)

// Area names one of the per-area log files.
type Area string

// The areas that get a file of their own: the spec's four, and Telegram's
// webhook next to Twilio's.
const (
	Auth     Area = "auth"
	Twilio   Area = "twilio_webhook"
	Telegram Area = "telegram_webhook"
	Messages Area = "messages"
	Reports  Area = "reports"
	// Support: handoffs, takeovers, resumes and people's answers.
	Support Area = "support"
	// Audit: every administrative and support action, as the audit log
	// table keeps it.
	Audit Area = "audit"
)

var areas = []Area{Auth, Twilio, Telegram, Messages, Reports, Support, Audit}

// Set is the root logger and one logger per area. Every logger writes to
// stdout; area loggers also write to their own file.
type Set struct {
	Root    *slog.Logger
	byArea  map[Area]*slog.Logger
	closers []io.Closer
}

// Area returns the logger of one area, or the root logger for an unknown one.
func (s *Set) Area(a Area) *slog.Logger {
	if l, ok := s.byArea[a]; ok {
		return l
	}
	return s.Root
}

// Close flushes and closes the log files.
func (s *Set) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// New builds the loggers. An empty folder disables the files (tests).
func New(stdout io.Writer, folder string, level slog.Level) (*Set, error) {
	opts := &slog.HandlerOptions{Level: level}
	console := slog.NewJSONHandler(stdout, opts)
	s := &Set{Root: slog.New(console), byArea: map[Area]*slog.Logger{}}
	if folder != "" {
		if err := os.MkdirAll(folder, fileMode); err != nil {
			return nil, fmt.Errorf("create logs folder: %w", err)
		}
	}
	for _, a := range areas {
		if folder == "" {
			s.byArea[a] = s.Root.With("area", string(a))
			continue
		}
		file := &lumberjack.Logger{
			Filename:   filepath.Join(folder, string(a)+".log"),
			MaxSize:    maxFileMB,
			MaxBackups: maxBackups,
		}
		s.closers = append(s.closers, file)
		h := slog.NewMultiHandler(console, slog.NewJSONHandler(file, opts))
		s.byArea[a] = slog.New(h).With("area", string(a))
	}
	return s, nil
}
