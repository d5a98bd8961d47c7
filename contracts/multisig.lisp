; multisig.lisp: a bank payout account where every payment needs M of N owners.
;
; init takes the owners (a list of distinct 32-byte account keys) and the threshold M.
; Anyone may fund the account with the value of a `fund` call. Then:
;   propose (to amount)  an owner proposes a payment and gets its id (0, 1, 2 ...);
;   approve (id)         each owner may approve a proposal once (proposing is not approving);
;   execute (id)         an owner pays it out once it has M approvals; it can run only once.
; A proposal is stored under its integer id as {"to" "amount" "approvals" "executed"}.
; Events: "funded", "proposed", "approved", "executed".

; True for a 32-byte account key.
(defun account? (k) (and (= (type-of k) "bytes") (= (len k) 32)))

; Refuses money attached to a call that is not `fund`.
(defun no-value () (enforce (= (value) 0) "this function takes no value"))

; True if `who` is one of the owners.
(defun owner? (who) (contains (get "owners") who))

; Aborts unless the caller is an owner.
(defun only-owner () (enforce (owner? (caller)) "only an owner may do this"))

; Deploy: the owners and how many of them must approve a payment.
(defun init (owners threshold)
  (enforce (= (type-of owners) "list") "owners must be a list of account keys")
  (fold (fn (seen k)
          (enforce (account? k) "every owner must be an account key (32 bytes)")
          (enforce (not (contains seen k)) "an owner is listed twice")
          (append seen k))
        (list) owners)
  (enforce (= (type-of threshold) "integer") "threshold must be an integer")
  (enforce (and (>= threshold 1) (<= threshold (len owners))) "threshold must be between 1 and the number of owners")
  (put "owners" owners)
  (put "threshold" threshold)
  (put "next-id" 0)
  true)

; Anyone: adds the attached value to the account; returns the new balance.
(defun fund ()
  (enforce (> (value) 0) "attach the amount as the call's value")
  (emit "funded" (dict "from" (caller) "amount" (value)))
  (balance))

; Owner only: proposes paying `amount` to `to`; returns the proposal id.
(defun propose (to amount)
  (no-value)
  (only-owner)
  (enforce (account? to) "recipient must be an account key (32 bytes)")
  (enforce (and (= (type-of amount) "integer") (> amount 0)) "amount must be a positive integer")
  (let ((id (get "next-id")))
    (put id (dict "to" to "amount" amount "approvals" (list) "executed" false))
    (put "next-id" (+ id 1))
    (emit "proposed" (dict "id" id "by" (caller) "to" to "amount" amount))
    id))

; The proposal with this id (aborts if there is none).
(defun proposal (id)
  (enforce (= (type-of id) "integer") "a proposal id is an integer")
  (let ((p (get id)))
    (enforce (not (nil? p)) "no such proposal")
    p))

; Owner only, once per owner: approves proposal `id`; returns its number of approvals.
(defun approve (id)
  (no-value)
  (only-owner)
  (let ((p (proposal id))
        (approvals (map-get p "approvals")))
    (enforce (not (map-get p "executed")) "the proposal has already been executed")
    (enforce (not (contains approvals (caller))) "this owner has already approved")
    (put id (map-set p "approvals" (append approvals (caller))))
    (emit "approved" (dict "id" id "by" (caller)))
    (+ (len approvals) 1)))

; How many owners have approved proposal `id`.
(defun approvals (id) (len (map-get (proposal id) "approvals")))

; Whether proposal `id` has been paid out.
(defun executed? (id) (map-get (proposal id) "executed"))

; Owner only: pays proposal `id` once it has enough approvals; it can be paid only once.
(defun execute (id)
  (no-value)
  (only-owner)
  (let ((p (proposal id))
        (to (map-get p "to"))
        (amount (map-get p "amount")))
    (enforce (not (map-get p "executed")) "the proposal has already been executed")
    (enforce (>= (len (map-get p "approvals")) (get "threshold")) "not enough approvals")
    (enforce (>= (balance) amount) "not enough funds in the account")
    (put id (map-set p "executed" true))
    (transfer to amount)
    (emit "executed" (dict "id" id "to" to "amount" amount))
    amount))
