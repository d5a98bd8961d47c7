; vesting.test.lisp: linear vesting with a cliff (contracts/vesting.lisp).
; Every test starts from the state this setup leaves: 1000 granted to bob by alice, vesting from
; t=10000 ms over 1000 ms, with a cliff of 200 ms; the clock stands at 0.

(account alice 100000)
(account bob 0)
(deploy grant "vesting.lisp" (args bob 10000 200 1000) (as alice))
(call (fund) (value 1000))

(test "nothing vests before the cliff"
  (expect "before the start" 0 (query (vested 5000)))
  (expect "just before the cliff" 0 (query (vested 10199)))
  (expect-failure "release at the cliff's edge" "nothing to release yet" (call (release) (time 10199)))
  (expect "bob got nothing" 0 (balance bob)))

(test "it vests linearly after the cliff"
  (expect "at the cliff: a fifth" 200 (query (vested 10200)))
  (expect "halfway" 500 (query (vested 10500)))
  (expect "rounded down" 333 (query (vested 10333)))
  (expect "all at the end" 1000 (query (vested 11000)))
  (expect "and after" 1000 (query (vested 99999))))

(test "release pays what vested, once"
  (time 10500)
  (expect "releasable now" 500 (query (releasable)))
  (expect "release pays 500" 500 (call (release) (as bob)))
  (expect-event "released" "released" (dict "to" bob "amount" 500 "at" 10500))
  (expect "bob holds 500" 500 (balance bob))
  (expect-failure "nothing more at the same time" "nothing to release yet" (call (release)))
  (time 12000)
  (expect "the rest later" 500 (call (release)))
  (expect "bob holds all" 1000 (balance bob))
  (expect "the grant is empty" 0 (balance grant))
  (expect "released in total" 1000 (query (released))))

(test "anyone may release, the money goes to the beneficiary"
  (expect "alice releases at the end" 1000 (call (release) (time 11000)))
  (expect "bob was paid" 1000 (balance bob))
  (expect "alice was not" 99000 (balance alice)))

(test "later funding vests on the same schedule"
  (time 10500)
  (expect "alice adds 1000" 2000 (call (fund) (value 1000)))
  (expect-event "funded" "funded" (dict "from" alice "amount" 1000))
  (expect "half of the whole" 1000 (query (releasable))))

(test "no money with release, and funding needs money"
  (time 11000)
  (expect-failure "value on release" "takes no value" (call (release) (value 5)))
  (expect "alice got her 5 back" 99000 (balance alice))
  (expect-failure "empty fund" "attach the amount" (call (fund))))

(test "the schedule is checked at deploy"
  (expect-failure "zero duration" "duration must be positive" (deploy g2 "vesting.lisp" (args bob 0 0 0)))
  (expect-failure "cliff after the end" "cliff must be between" (deploy g3 "vesting.lisp" (args bob 0 20 10)))
  (expect-failure "not a key" "beneficiary must be an account key" (deploy g4 "vesting.lisp" (args "bob" 0 0 10))))
