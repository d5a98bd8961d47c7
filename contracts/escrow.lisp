; escrow.lisp: a buyer's payment held until the deal settles.
;
; init names the buyer, the seller and an arbiter (three different accounts). The buyer deposits
; the payment once, as the value of a `deposit` call. After that exactly one of these can happen,
; once:
;   release  (by the arbiter or the buyer)  pays the deposit to the seller;
;   refund   (by the arbiter or the seller) pays the deposit back to the buyer.
; status goes "awaiting-deposit" -> "funded" -> "released" or "refunded", and never back.
; Events: "deposited" {amount}, "released" {to amount}, "refunded" {to amount}.

; True for a 32-byte account key.
(defun account? (k) (and (= (type-of k) "bytes") (= (len k) 32)))

; Refuses money attached to a call that is not a deposit (it would be locked in the contract).
(defun no-value () (enforce (= (value) 0) "this function takes no value"))

; Deploy: records the three parties.
(defun init (buyer seller arbiter)
  (enforce (and (account? buyer) (account? seller) (account? arbiter)) "buyer, seller and arbiter must be account keys (32 bytes)")
  (enforce (and (!= buyer seller) (!= buyer arbiter) (!= seller arbiter)) "buyer, seller and arbiter must be different accounts")
  (put "buyer" buyer)
  (put "seller" seller)
  (put "arbiter" arbiter)
  (put "amount" 0)
  (put "status" "awaiting-deposit")
  true)

; Buyer only, once: the value attached to this call is the payment held.
(defun deposit ()
  (enforce (= (caller) (get "buyer")) "only the buyer may deposit")
  (enforce (= (get "status") "awaiting-deposit") "the deposit has already been made")
  (enforce (> (value) 0) "attach the payment as the call's value")
  (put "amount" (value))
  (put "status" "funded")
  (emit "deposited" (dict "amount" (value)))
  (value))

; Arbiter or buyer: pays the deposit to the seller and closes the escrow.
(defun release ()
  (no-value)
  (enforce (or (= (caller) (get "arbiter")) (= (caller) (get "buyer"))) "only the arbiter or the buyer may release")
  (enforce (= (get "status") "funded") "the escrow is not funded, or already settled")
  (let ((to (get "seller"))
        (amount (get "amount")))
    (put "status" "released")
    (transfer to amount)
    (emit "released" (dict "to" to "amount" amount))
    amount))

; Arbiter or seller: pays the deposit back to the buyer and closes the escrow.
(defun refund ()
  (no-value)
  (enforce (or (= (caller) (get "arbiter")) (= (caller) (get "seller"))) "only the arbiter or the seller may refund")
  (enforce (= (get "status") "funded") "the escrow is not funded, or already settled")
  (let ((to (get "buyer"))
        (amount (get "amount")))
    (put "status" "refunded")
    (transfer to amount)
    (emit "refunded" (dict "to" to "amount" amount))
    amount))

; "awaiting-deposit", "funded", "released" or "refunded".
(defun status () (get "status"))

; The deposit held (or paid out): 0 before the deposit.
(defun amount () (get "amount"))
