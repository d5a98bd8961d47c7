; vesting.lisp: time-locked savings, or a vesting grant, for one beneficiary.
;
; Anyone may fund it with the value of a `fund` call. Funds vest linearly over time:
;   vested(t) = 0                                  when t < start + cliff
;             = total                              when t >= start + duration
;             = total * (t - start) / duration     otherwise (rounded down)
; where total is everything funded so far, and start, cliff and duration are in ms (cliff and
; duration counted from start). `release` pays the beneficiary vested(now) minus what it has
; already released; anyone may call it, the money only ever goes to the beneficiary.
; (now) is the time the sequencer wrote into the Execute running the call.
; Events: "funded" {from amount}, "released" {to amount at}.

; The largest integer: total * duration must stay below it so vested(t) never overflows.
(defconst MAX-INT 18446744073709551615)

; True for a 32-byte account key.
(defun account? (k) (and (= (type-of k) "bytes") (= (len k) 32)))

; True for an integer >= 0.
(defun natural? (n) (and (= (type-of n) "integer") (>= n 0)))

; Refuses money attached to a call that is not `fund` (it would vest without being counted).
(defun no-value () (enforce (= (value) 0) "this function takes no value"))

; Deploy: the beneficiary and the schedule.
(defun init (beneficiary start cliff duration)
  (enforce (account? beneficiary) "beneficiary must be an account key (32 bytes)")
  (enforce (natural? start) "start must be a time in ms")
  (enforce (and (natural? duration) (> duration 0)) "duration must be positive")
  (enforce (and (natural? cliff) (<= cliff duration)) "cliff must be between 0 and duration")
  (enforce (<= start (- MAX-INT duration)) "start + duration is too large")
  (put "beneficiary" beneficiary)
  (put "start" start)
  (put "cliff" cliff)
  (put "duration" duration)
  (put "funded" 0)
  (put "released" 0)
  true)

; Adds the attached value to the grant; returns the new total.
(defun fund ()
  (enforce (> (value) 0) "attach the amount to lock as the call's value")
  (let ((total (+ (get "funded") (value))))
    (enforce (<= total (/ MAX-INT (get "duration"))) "total too large for this duration")
    (put "funded" total)
    (emit "funded" (dict "from" (caller) "amount" (value)))
    total))

; What has vested by time t (ms), released or not.
(defun vested (t)
  (let ((start (get "start"))
        (duration (get "duration"))
        (total (get "funded")))
    (cond ((< t (+ start (get "cliff"))) 0)
          ((>= t (+ start duration)) total)
          (else (/ (* total (- t start)) duration)))))

; What `release` would pay now.
(defun releasable () (- (vested (now)) (get "released")))

; Everything paid to the beneficiary so far.
(defun released () (get "released"))

; Everything ever funded.
(defun funded () (get "funded"))

; Pays the beneficiary what has vested and was not paid yet; returns the amount.
(defun release ()
  (no-value)
  (let ((amount (releasable))
        (to (get "beneficiary")))
    (enforce (> amount 0) "nothing to release yet")
    (put "released" (+ (get "released") amount))
    (transfer to amount)
    (emit "released" (dict "to" to "amount" amount "at" (now)))
    amount))
