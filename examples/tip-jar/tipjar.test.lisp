; tipjar.test.lisp: run with `bftnode contract test examples/tip-jar/tipjar.test.lisp`.
; The setup: three accounts with money, and a jar owned by alice.

(account alice 1000)
(account bob 500)
(account carol 0)
(deploy jar "tipjar.lisp" (args alice) (as alice))

(test "a tip is kept, counted and announced"
  (expect "bob tips 20" 20 (call (tip "thanks!") (as bob) (value 20)))
  (expect-event "the jar says who tipped" "tip" (dict "from" bob "amount" 20 "note" "thanks!"))
  (expect "bob has tipped 20" 20 (query (tipped-by bob)))
  (expect "the jar holds the money" 20 (balance jar))
  (expect "bob paid for it" 480 (balance bob)))

(test "a tip needs money and a short note"
  (expect-failure "no money attached" "attach money" (call (tip "hi") (as bob)))
  (expect-failure "a long note" "at most 140" (call (tip "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") (as bob) (value 1)))
  (expect "a failed tip costs nothing" 500 (balance bob)))

(test "only the owner withdraws, and only what is there"
  (call (tip "coffee") (as bob) (value 30))
  (expect-failure "bob cannot" "only the owner" (call (withdraw 10) (as bob)))
  (expect-failure "not more than the jar holds" "at most the jar's balance" (call (withdraw 31) (as alice)))
  (expect "alice takes 25" true (call (withdraw 25) (as alice)))
  (expect-event "announced" "withdraw" (dict "amount" 25))
  (expect "the jar keeps 5" 5 (balance jar))
  (expect "the total still counts every tip" 30 (query (total))))
