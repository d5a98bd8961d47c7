; token: a fungible token. The owner receives the whole supply at deploy and alone may mint more.
; Balances live in storage under each holder's 32-byte account key; the total under "supply".
; Invariant: "supply" equals the sum of all balances. Events: "transfer" {from to amount}, "mint" {to amount}.
; deploy: the owner gets the whole supply and the right to mint (init runs only at deploy)
(defun init (owner supply)
  (enforce (= (len owner) 32) "owner must be an account key (32 bytes)")
  (enforce (>= supply 0) "supply cannot be negative")
  (put "owner" owner)
  (put "supply" supply)
  (put owner supply)
  true)

; moves amount of the caller's tokens to another account
(defun transfer (to amount)
  (let ((from (caller))
        (have (get (caller) 0)))
    (enforce (= (len to) 32) "recipient must be an account key (32 bytes)")
    (enforce (> amount 0) "amount must be positive")
    (enforce (>= have amount) "insufficient token balance")
    (put from (- have amount))
    (put to (+ (get to 0) amount))
    (emit "transfer" (dict "from" from "to" to "amount" amount))
    true))

; new tokens, by the owner only; the supply grows by the same amount
(defun mint (to amount)
  (enforce (= (caller) (get "owner")) "only the owner may mint")
  (enforce (= (len to) 32) "recipient must be an account key (32 bytes)")
  (enforce (> amount 0) "amount must be positive")
  (put to (+ (get to 0) amount))
  (put "supply" (+ (get "supply") amount))
  (emit "mint" (dict "to" to "amount" amount))
  true)

; the tokens an account holds (0 if it never held any)
(defun balance-of (who) (get who 0))

; all tokens in existence: always the sum of every balance
(defun total-supply () (get "supply"))
