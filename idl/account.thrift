// The account service: user accounts and credential checks.
//
// Domain errors travel as Kitex business status errors (kerrors.BizStatusError)
// whose status code is an ErrorCode below; the message is the contract's
// human-readable text, safe to show to the end user.
namespace go account

// ErrorCode is shared in meaning (and number) with warehouse.proto and
// payment.proto so that the gateway maps every service's errors one way.
enum ErrorCode {
    INVALID_ARGUMENT = 1     // bad input: HTTP 400 with the message
    NOT_FOUND = 2            // no such account: HTTP 204 on reads
    CONFLICT = 3             // username, email or telephone already taken: HTTP 400
    FAILED_PRECONDITION = 4  // a business rule refuses the operation
    UNAUTHENTICATED = 5      // missing, invalid or expired token; wrong credentials
    PERMISSION_DENIED = 6    // authenticated, but not allowed
    INSUFFICIENT_STOCK = 7   // (not used by account; keeps the numbering shared)
    UNAVAILABLE = 8          // a request's deadline ended or a dependency is down: HTTP 503
}

// Account is the public view of an account: the password hash never leaves
// the service. Optional fields are NULL in the database (and null in JSON).
struct Account {
    1: required i64 id
    2: required string username
    3: optional string name
    4: optional string avatar
    5: optional string telephone
    6: optional string email
    7: optional string location
}

// AccountInput carries a create or update. Unset fields are "absent"; on
// update an absent or empty password keeps the stored hash.
struct AccountInput {
    1: optional i64 id
    2: optional string username
    3: optional string password  // the browser's wire form (contract §3.3), never plaintext
    4: optional string name
    5: optional string avatar
    6: optional string telephone
    7: optional string email
    8: optional string location
}

// Principal is who a set of credentials belongs to, with the roles the token
// endpoint puts into the JWT.
struct Principal {
    1: required i64 account_id
    2: required string username
    3: required list<string> roles
}

struct GetAccountRequest {
    1: required string username
}

struct VerifyCredentialsRequest {
    1: required string username
    2: required string password  // wire form
}

service AccountService {
    // GetAccount returns the account, or NOT_FOUND.
    Account GetAccount(1: GetAccountRequest req)
    // CreateAccount registers a new account (anonymous).
    Account CreateAccount(1: AccountInput input)
    // UpdateAccount replaces the caller's own account; input.id must be the
    // caller's id (taken from the verified token in the request metainfo).
    Account UpdateAccount(1: AccountInput input)
    // VerifyCredentials checks a username and wire password; UNAUTHENTICATED
    // when either is wrong (the two cases are not told apart).
    Principal VerifyCredentials(1: VerifyCredentialsRequest req)
}
