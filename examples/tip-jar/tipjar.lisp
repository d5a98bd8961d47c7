; tipjar.lisp: the contract of docs/developing.md. Anyone tips the jar by attaching money to a
; `tip` call with a short note; the owner withdraws. Events: "tip" {from amount note},
; "withdraw" {amount}.

; Deploy: the owner is the one account that may withdraw.
(defun init (owner)
  (enforce (= (len owner) 32) "owner must be an account key (32 bytes)")
  (put "owner" owner)
  (put "total" 0)
  true)

; Keeps the money attached to the call; returns the jar's running total.
(defun tip (note)
  (enforce (> (value) 0) "attach money to a tip (--value)")
  (enforce (<= (len note) 140) "a note is at most 140 characters")
  (put (caller) (+ (get (caller) 0) (value)))
  (put "total" (+ (get "total") (value)))
  (emit "tip" (dict "from" (caller) "amount" (value) "note" note))
  (get "total"))

; What an account has tipped so far (0 if nothing).
(defun tipped-by (who) (get who 0))

; Everything ever tipped.
(defun total () (get "total"))

; The owner takes money out of the jar.
(defun withdraw (amount)
  (enforce (= (caller) (get "owner")) "only the owner withdraws")
  (enforce (and (> amount 0) (<= amount (balance))) "amount must be positive and at most the jar's balance")
  (transfer (caller) amount)
  (emit "withdraw" (dict "amount" amount))
  true)
