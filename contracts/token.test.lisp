; token.test.lisp: the token's rules (contracts/token.lisp). Run: bftnode contract test contracts/token.test.lisp
; Every test starts from the state this setup leaves: alice owns a token with a supply of 1000.

(account alice 1000000)
(account bob 1000)
(account carol 0)
(deploy token "token.lisp" (args alice 1000) (as alice))

(test "the owner holds the whole supply"
  (expect "alice has it all" 1000 (query (balance-of alice)))
  (expect "bob has none" 0 (query (balance-of bob)))
  (expect "storage names the owner" alice (query (get "owner"))))

(test "a transfer moves tokens and says so"
  (expect "alice sends bob 250" true (call (transfer bob 250)))
  (expect-event "a transfer event" "transfer" (dict "from" alice "to" bob "amount" 250))
  (expect "bob has 250" 250 (query (balance-of bob)))
  (expect "alice has the rest" 750 (query (balance-of alice))))

(test "nobody can send more than they hold"
  (expect-failure "bob holds no tokens" "insufficient token balance" (call (transfer carol 1) (as bob)))
  (call (transfer bob 10))
  (expect-failure "bob cannot send 11 of his 10" "insufficient token balance" (call (transfer carol 11) (as bob)))
  (expect "a failed transfer changed nothing" (list 10 0) (list (query (balance-of bob)) (query (balance-of carol)))))

(test "amounts and recipients are checked"
  (expect-failure "zero" "amount must be positive" (call (transfer bob 0)))
  (expect-failure "negative" "amount must be positive" (call (transfer bob -5)))
  (expect-failure "not a key" "recipient must be an account key" (call (transfer 0x0102 5))))

(test "only the owner mints"
  (expect-failure "bob cannot" "only the owner may mint" (call (mint bob 1000) (as bob)))
  (expect "alice can" true (call (mint carol 500)))
  (expect-event "a mint event" "mint" (dict "to" carol "amount" 500))
  (expect "the supply grew" 1500 (query (total-supply))))

(test "the supply is the sum of every balance"
  (call (transfer bob 300))
  (call (transfer carol 100) (as bob))
  (call (mint bob 42))
  (expect "supply = alice + bob + carol" (query (total-supply))
    (+ (query (balance-of alice)) (+ (query (balance-of bob)) (query (balance-of carol))))))

(test "a failed call refunds the money attached to it"
  (expect-failure "bob attaches 5 to a refused transfer" "insufficient token balance"
    (call (transfer alice 1) (as bob) (value 5)))
  (expect "bob still holds 1000" 1000 (balance bob))
  (expect "the token holds no money" 0 (balance token)))

(test "init runs only at deploy"
  (expect-failure "a second init is refused" "init runs only at deploy" (call (init bob 1))))

(test "a tight gas limit runs out"
  (expect-failure "50 gas is not enough" "out-of-gas" (call (transfer bob 1) (gas 50))))
