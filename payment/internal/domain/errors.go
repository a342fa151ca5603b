package domain

import (
	"errors"
	"strings"
)

var (
	// ErrPaymentNotFound: no payment has the given pay id.
	ErrPaymentNotFound = errors.New("支付单不存在")
	// ErrInsufficientBalance is the contract's refusal when the wallet does
	// not hold strictly more than the price.
	ErrInsufficientBalance = errors.New("用户余额不足以支付，请先充值")
	// ErrPermissionDenied: the caller may not act for that account.
	ErrPermissionDenied = errors.New("Access is denied")

	// ErrUnknownProduct: the settlement names a product the warehouse does not have.
	ErrUnknownProduct = errors.New("结算单中包含不存在的商品")
	// ErrInsufficientStock: the warehouse cannot reserve every item.
	ErrInsufficientStock = errors.New("商品库存不足")
	// ErrWarehouseUnavailable: the warehouse could not be reached or did not
	// answer in time; the call may or may not have taken effect.
	ErrWarehouseUnavailable = errors.New("仓库服务暂不可用，请稍后重试")
	// ErrWarehouseRefused: the warehouse answered with a business error that
	// will not go away by retrying the same request.
	ErrWarehouseRefused = errors.New("仓库服务拒绝了请求")

	// ErrConcurrentUpdate: someone else changed the payment between our read
	// and our compare-and-set; the adapter retries, so callers rarely see it.
	ErrConcurrentUpdate = errors.New("payment changed concurrently")
	// ErrFreezeGuardFired: the safety thaw of a settlement already went out
	// (the settlement took longer than its guard), so the frozen stock may be
	// gone and the payment must not be created.
	ErrFreezeGuardFired = errors.New("freeze guard already fired")
)

// Op names the operation a StateError refused.
type Op int

const (
	OpPay Op = iota
	OpCancel
	OpExpire
)

// StateError refuses an operation on a payment that is not WAITING. Its
// message is the contract's text.
type StateError struct {
	Op    Op
	State State
}

func (e *StateError) Error() string {
	switch e.Op {
	case OpPay:
		return "当前订单不允许支付，当前状态为：" + string(e.State)
	case OpCancel:
		return "当前订单不允许取消，当前状态为：" + string(e.State)
	default:
		return "当前订单不允许超时取消，当前状态为：" + string(e.State)
	}
}

// ValidationError lists every problem of a settlement, in the contract's words.
type ValidationError struct {
	Problems []string
}

// Error joins the problems with '；' (U+FF1B), as the original's bean
// validation mapper did.
func (e *ValidationError) Error() string { return strings.Join(e.Problems, "；") }
