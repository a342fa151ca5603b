package telemetry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/cloudwego/kitex/pkg/klog"
)

// FrameworkLog sends a framework's own log lines (Kitex's klog, Hertz's
// hlog) to slog, so that every line a service prints is one JSON object
// with its service name and, where the framework passes one, the request's
// trace id. Levels follow the frameworks' order: trace, debug, info,
// notice, warn, error, fatal (0 to 6); lines below the level set with
// SetLevel (info by default) are dropped, and slog's own level applies too.
type FrameworkLog struct {
	component string
	level     atomic.Int32
}

// NewFrameworkLog returns the log of component ("kitex", "hertz").
func NewFrameworkLog(component string) *FrameworkLog {
	l := &FrameworkLog{component: component}
	l.level.Store(2)
	return l
}

// SetMinLevel sets the least framework level logged.
func (l *FrameworkLog) SetMinLevel(level int) { l.level.Store(int32(level)) }

// Log writes one line at framework level level; format nil means v is
// printed like fmt.Sprint. Fatal lines end the process, as the frameworks'
// default loggers do.
func (l *FrameworkLog) Log(ctx context.Context, level int, format *string, v []any) {
	if int32(level) < l.level.Load() && level < 6 {
		return
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var lv slog.Level
	switch {
	case level <= 1:
		lv = slog.LevelDebug
	case level <= 3:
		lv = slog.LevelInfo
	case level == 4:
		lv = slog.LevelWarn
	default:
		lv = slog.LevelError
	}
	if !slog.Default().Enabled(ctx, lv) && level < 6 {
		return
	}
	msg := ""
	if format != nil {
		msg = fmt.Sprintf(*format, v...)
	} else {
		msg = fmt.Sprint(v...)
	}
	slog.Log(ctx, lv, msg, "component", l.component)
	if level >= 6 {
		os.Exit(1)
	}
}

// kitexLog is klog.FullLogger over a FrameworkLog.
type kitexLog struct{ *FrameworkLog }

var _ klog.FullLogger = kitexLog{}

// KitexLogger is klog's logger for the process: installed by Setup.
func KitexLogger() klog.FullLogger { return kitexLog{NewFrameworkLog("kitex")} }

func (k kitexLog) log(ctx context.Context, lv klog.Level, f *string, v []any) {
	k.Log(ctx, int(lv), f, v)
}

func (k kitexLog) Trace(v ...any)  { k.log(context.Background(), klog.LevelTrace, nil, v) }
func (k kitexLog) Debug(v ...any)  { k.log(context.Background(), klog.LevelDebug, nil, v) }
func (k kitexLog) Info(v ...any)   { k.log(context.Background(), klog.LevelInfo, nil, v) }
func (k kitexLog) Notice(v ...any) { k.log(context.Background(), klog.LevelNotice, nil, v) }
func (k kitexLog) Warn(v ...any)   { k.log(context.Background(), klog.LevelWarn, nil, v) }
func (k kitexLog) Error(v ...any)  { k.log(context.Background(), klog.LevelError, nil, v) }
func (k kitexLog) Fatal(v ...any)  { k.log(context.Background(), klog.LevelFatal, nil, v) }

func (k kitexLog) Tracef(f string, v ...any)  { k.log(context.Background(), klog.LevelTrace, &f, v) }
func (k kitexLog) Debugf(f string, v ...any)  { k.log(context.Background(), klog.LevelDebug, &f, v) }
func (k kitexLog) Infof(f string, v ...any)   { k.log(context.Background(), klog.LevelInfo, &f, v) }
func (k kitexLog) Noticef(f string, v ...any) { k.log(context.Background(), klog.LevelNotice, &f, v) }
func (k kitexLog) Warnf(f string, v ...any)   { k.log(context.Background(), klog.LevelWarn, &f, v) }
func (k kitexLog) Errorf(f string, v ...any)  { k.log(context.Background(), klog.LevelError, &f, v) }
func (k kitexLog) Fatalf(f string, v ...any)  { k.log(context.Background(), klog.LevelFatal, &f, v) }

func (k kitexLog) CtxTracef(ctx context.Context, f string, v ...any) {
	k.log(ctx, klog.LevelTrace, &f, v)
}
func (k kitexLog) CtxDebugf(ctx context.Context, f string, v ...any) {
	k.log(ctx, klog.LevelDebug, &f, v)
}
func (k kitexLog) CtxInfof(ctx context.Context, f string, v ...any) {
	k.log(ctx, klog.LevelInfo, &f, v)
}
func (k kitexLog) CtxNoticef(ctx context.Context, f string, v ...any) {
	k.log(ctx, klog.LevelNotice, &f, v)
}
func (k kitexLog) CtxWarnf(ctx context.Context, f string, v ...any) {
	k.log(ctx, klog.LevelWarn, &f, v)
}
func (k kitexLog) CtxErrorf(ctx context.Context, f string, v ...any) {
	k.log(ctx, klog.LevelError, &f, v)
}
func (k kitexLog) CtxFatalf(ctx context.Context, f string, v ...any) {
	k.log(ctx, klog.LevelFatal, &f, v)
}

func (k kitexLog) SetLevel(lv klog.Level) { k.SetMinLevel(int(lv)) }
func (k kitexLog) SetOutput(io.Writer)    {}
