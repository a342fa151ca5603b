package hertztel

import (
	"context"
	"io"

	"github.com/cloudwego/hertz/pkg/common/hlog"

	"example.com/bookstore/common/telemetry"
)

// hertzLog is hlog.FullLogger over a telemetry.FrameworkLog: Hertz's own
// lines become JSON lines of the service's slog logger.
type hertzLog struct{ *telemetry.FrameworkLog }

var _ hlog.FullLogger = hertzLog{}

// Logger is the logger to install with hlog.SetLogger.
func Logger() hlog.FullLogger { return hertzLog{telemetry.NewFrameworkLog("hertz")} }

func (h hertzLog) log(ctx context.Context, lv hlog.Level, f *string, v []any) {
	h.Log(ctx, int(lv), f, v)
}

func (h hertzLog) Trace(v ...any)  { h.log(context.Background(), hlog.LevelTrace, nil, v) }
func (h hertzLog) Debug(v ...any)  { h.log(context.Background(), hlog.LevelDebug, nil, v) }
func (h hertzLog) Info(v ...any)   { h.log(context.Background(), hlog.LevelInfo, nil, v) }
func (h hertzLog) Notice(v ...any) { h.log(context.Background(), hlog.LevelNotice, nil, v) }
func (h hertzLog) Warn(v ...any)   { h.log(context.Background(), hlog.LevelWarn, nil, v) }
func (h hertzLog) Error(v ...any)  { h.log(context.Background(), hlog.LevelError, nil, v) }
func (h hertzLog) Fatal(v ...any)  { h.log(context.Background(), hlog.LevelFatal, nil, v) }

func (h hertzLog) Tracef(f string, v ...any)  { h.log(context.Background(), hlog.LevelTrace, &f, v) }
func (h hertzLog) Debugf(f string, v ...any)  { h.log(context.Background(), hlog.LevelDebug, &f, v) }
func (h hertzLog) Infof(f string, v ...any)   { h.log(context.Background(), hlog.LevelInfo, &f, v) }
func (h hertzLog) Noticef(f string, v ...any) { h.log(context.Background(), hlog.LevelNotice, &f, v) }
func (h hertzLog) Warnf(f string, v ...any)   { h.log(context.Background(), hlog.LevelWarn, &f, v) }
func (h hertzLog) Errorf(f string, v ...any)  { h.log(context.Background(), hlog.LevelError, &f, v) }
func (h hertzLog) Fatalf(f string, v ...any)  { h.log(context.Background(), hlog.LevelFatal, &f, v) }

func (h hertzLog) CtxTracef(ctx context.Context, f string, v ...any) {
	h.log(ctx, hlog.LevelTrace, &f, v)
}
func (h hertzLog) CtxDebugf(ctx context.Context, f string, v ...any) {
	h.log(ctx, hlog.LevelDebug, &f, v)
}
func (h hertzLog) CtxInfof(ctx context.Context, f string, v ...any) {
	h.log(ctx, hlog.LevelInfo, &f, v)
}
func (h hertzLog) CtxNoticef(ctx context.Context, f string, v ...any) {
	h.log(ctx, hlog.LevelNotice, &f, v)
}
func (h hertzLog) CtxWarnf(ctx context.Context, f string, v ...any) {
	h.log(ctx, hlog.LevelWarn, &f, v)
}
func (h hertzLog) CtxErrorf(ctx context.Context, f string, v ...any) {
	h.log(ctx, hlog.LevelError, &f, v)
}
func (h hertzLog) CtxFatalf(ctx context.Context, f string, v ...any) {
	h.log(ctx, hlog.LevelFatal, &f, v)
}

func (h hertzLog) SetLevel(lv hlog.Level) { h.SetMinLevel(int(lv)) }
func (h hertzLog) SetOutput(io.Writer)    {}
