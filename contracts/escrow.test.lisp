; escrow.test.lisp: the escrow's rules (contracts/escrow.lisp).
; Every test starts from the state this setup leaves: bob buys from carol, dave arbitrates.

(account bob 10000)
(account carol 100)
(account dave 10)
(deploy escrow "escrow.lisp" (args bob carol dave) (as bob))

(test "a new escrow awaits the deposit"
  (expect "status" "awaiting-deposit" (query (status)))
  (expect "nothing held" 0 (query (amount))))

(test "the buyer deposits, the arbiter releases to the seller"
  (expect "bob deposits 500" 500 (call (deposit) (value 500)))
  (expect-event "deposited" "deposited" (dict "amount" 500))
  (expect "the escrow holds the money" 500 (balance escrow))
  (expect "released" 500 (call (release) (as dave)))
  (expect-event "released to carol" "released" (dict "to" carol "amount" 500))
  (expect "carol was paid" 600 (balance carol))
  (expect "bob paid" 9500 (balance bob))
  (expect "status" "released" (query (status))))

(test "the seller refunds the buyer"
  (call (deposit) (value 700))
  (expect "refunded" 700 (call (refund) (as carol)))
  (expect-event "refunded to bob" "refunded" (dict "to" bob "amount" 700))
  (expect "bob has it all back" 10000 (balance bob))
  (expect "status" "refunded" (query (status))))

(test "only the buyer deposits, once, with money"
  (expect-failure "carol cannot" "only the buyer may deposit" (call (deposit) (as carol) (value 50)))
  (expect "carol's money came back" 100 (balance carol))
  (expect-failure "no value" "attach the payment" (call (deposit)))
  (call (deposit) (value 500))
  (expect-failure "twice" "already been made" (call (deposit) (value 1))))

(test "who may release and refund"
  (call (deposit) (value 500))
  (expect-failure "the seller cannot release" "only the arbiter or the buyer may release" (call (release) (as carol)))
  (expect-failure "the buyer cannot refund" "only the arbiter or the seller may refund" (call (refund)))
  (expect "the buyer may release" 500 (call (release))))

(test "it settles once"
  (expect-failure "nothing to release before the deposit" "not funded" (call (release) (as dave)))
  (call (deposit) (value 500))
  (call (refund) (as dave))
  (expect-failure "no release after a refund" "not funded, or already settled" (call (release) (as dave)))
  (expect-failure "no second refund" "already settled" (call (refund) (as carol)))
  (expect "the escrow is empty" 0 (balance escrow)))

(test "money sent with release is refused and returned"
  (call (deposit) (value 500))
  (expect-failure "value on release" "takes no value" (call (release) (as dave) (value 5)))
  (expect "dave got his 5 back" 10 (balance dave))
  (expect "still funded" "funded" (query (status))))

(test "the three parties must differ"
  (expect-failure "buyer = seller" "must be different accounts" (deploy e2 "escrow.lisp" (args bob bob dave)))
  (expect-failure "not keys" "must be account keys" (deploy e3 "escrow.lisp" (args 1 2 3))))
