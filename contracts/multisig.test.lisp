; multisig.test.lisp: payouts that need 2 of 3 owners (contracts/multisig.lisp).
; Every test starts from the state this setup leaves: alice, bob and carol own a funded account.

(account alice 10000)
(account bob 10000)
(account carol 10000)
(account dave 100)
(deploy vault "multisig.lisp" (args (list alice bob carol) 2) (as alice))
(call (fund) (value 1000) (as carol))

(test "anyone funds it"
  (expect "the vault holds 1000" 1000 (balance vault))
  (expect "dave, no owner, adds 50: the new balance" 1050 (call (fund) (value 50) (as dave)))
  (expect-event "funded" "funded" (dict "from" dave "amount" 50))
  (expect-failure "funding needs money" "attach the amount" (call (fund))))

(test "a payment needs two approvals"
  (expect "alice proposes paying dave 300: id 0" 0 (call (propose dave 300)))
  (expect-event "proposed" "proposed" (dict "id" 0 "by" alice "to" dave "amount" 300))
  (expect-failure "no approvals yet" "not enough approvals" (call (execute 0)))
  (expect "alice approves" 1 (call (approve 0)))
  (expect-failure "one is not enough" "not enough approvals" (call (execute 0)))
  (expect "bob approves" 2 (call (approve 0) (as bob)))
  (expect "carol executes" 300 (call (execute 0) (as carol)))
  (expect-event "executed" "executed" (dict "id" 0 "to" dave "amount" 300))
  (expect "dave was paid" 400 (balance dave))
  (expect "the vault paid" 700 (balance vault))
  (expect "marked executed" true (query (executed? 0))))

(test "only owners propose, approve and execute"
  (expect-failure "dave cannot propose" "only an owner" (call (propose dave 1) (as dave)))
  (call (propose dave 100))
  (expect-failure "dave cannot approve" "only an owner" (call (approve 0) (as dave)))
  (expect-failure "dave cannot execute" "only an owner" (call (execute 0) (as dave))))

(test "each owner approves once"
  (call (propose carol 10))
  (call (approve 0))
  (expect-failure "alice again" "already approved" (call (approve 0)))
  (expect "still one approval" 1 (query (approvals 0))))

(test "a proposal is paid once, and only with the money there"
  (call (propose dave 5000))
  (call (approve 0))
  (call (approve 0) (as bob))
  (expect-failure "more than the vault holds" "not enough funds" (call (execute 0)))
  (call (propose dave 400))
  (call (approve 1))
  (call (approve 1) (as carol))
  (call (execute 1))
  (expect-failure "not twice" "already been executed" (call (execute 1) (as bob)))
  (expect "dave was paid once" 500 (balance dave)))

(test "proposals are checked"
  (expect-failure "zero" "amount must be a positive integer" (call (propose dave 0)))
  (expect-failure "not a key" "recipient must be an account key" (call (propose "dave" 5)))
  (expect-failure "no such proposal" "no such proposal" (call (approve 9))))

(test "init is checked"
  (expect-failure "threshold above the owners" "threshold must be between" (deploy v2 "multisig.lisp" (args (list alice bob) 3)))
  (expect-failure "an owner twice" "listed twice" (deploy v3 "multisig.lisp" (args (list alice alice) 1)))
  (expect-failure "no owners" "threshold must be between" (deploy v4 "multisig.lisp" (args (list) 1))))
