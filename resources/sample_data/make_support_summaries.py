"""Generate support_summaries.jsonl: customer-support tickets and their one-line triage.

Deterministic (seeded, standard library only): running it again rewrites the same bytes.

    python3 resources/sample_data/make_support_summaries.py [--out FILE] [--rows N] [--seed S]

Every answer has the form ``[CATEGORY] summary | urgency: LEVEL | next: STEP`` and follows from the ticket:
the category and next step from the kind of problem, the summary from its details (month, product, order
number...), and the urgency from the problem and from what the customer says about its impact. A base model
never writes this line on its own, so a tuned model that does has learned something real.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

# Data tables below: one entry per line reads best.
# fmt: off
SYSTEM = "You triage customer support tickets for Northwind Office Supply."

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]
PLANS = ["Basic", "Team", "Business", "Pro"]
APPS = ["Android app", "iOS app", "desktop app", "web dashboard"]
ITEMS = ["standing desk", "monitor arm", "office chair", "desk lamp", "keyboard tray", "filing cabinet", "whiteboard"]
FORMATS = ["CSV", "PDF", "Excel"]
ACTIONS = ["opening a saved order", "uploading a receipt", "switching accounts", "printing an invoice"]
FEATURES = ["a dark mode", "bulk order editing", "a shared team cart", "calendar reminders for reorders"]
TASKS = ["add a second shipping address", "download all invoices at once", "change the account owner"]
NAMES = ["Maria", "Tom", "Priya", "Jonas", "Aiko", "Carlos", "Fatima", "Liam", "Sofia", "Ahmed", "Grace", "Noah"]

GREETINGS = ["Hi,", "Hello there,", "Hi support team,", "Good morning,", "Hey,", "Dear Northwind,", ""]
CLOSINGS = ["Thanks,", "Thank you in advance,", "Please sort this out.", "Regards,", "Cheers,", "Best,", ""]
# Neutral context: makes tickets longer and more varied without changing the triage.
CONTEXT = [
    "We have been customers for {years} years.",
    "We are a small {business} with {staff} people.",
    "Our account is registered to {name_lower}@{business_slug}.example.",
    "I am writing on behalf of our office manager.",
    "I tried logging out and back in first.",
    "Sorry if this is the wrong place to ask.",
]
BUSINESSES = ["design studio", "law firm", "dental practice", "school office", "bakery", "architecture firm"]
# Impact phrases decide a bug's urgency: what the customer says about the harm, not the bug itself.
IMPACT = {
    "high": [
        "Our whole team is blocked right now.",
        "We have a client demo in an hour and cannot work.",
        "Nobody in the office can place orders because of this.",
    ],
    "medium": [
        "It happens a few times a day and slows us down.",
        "It is annoying and costs us time every week.",
        "Several colleagues have hit it since Monday.",
    ],
    "low": [
        "There is an easy workaround, so no rush.",
        "Not urgent, just letting you know.",
        "It only happened once, but I thought you should know.",
    ],
}

# kind: (category, urgency or "impact"/"days", summary, next step, ticket phrasings)
PROBLEMS = {
    "double_charge": ("BILLING", "high", "Charged twice for the {month} invoice", "refund the duplicate charge", [
        "I was billed two times for my {month} invoice, ${amount} each.",
        "My card statement shows two identical charges of ${amount} for {month}.",
        "You took the {month} payment twice. I only have one subscription!",
    ]),
    "wrong_amount": ("BILLING", "medium", "{month} invoice higher than the {plan} plan price", "send a corrected invoice", [
        "The {month} invoice says ${amount} but the {plan} plan should cost less than that.",
        "We are on the {plan} plan, yet {month} was invoiced at ${amount}. Can you check the price?",
    ]),
    "billed_after_cancel": ("BILLING", "high", "Billed after cancelling the {plan} plan", "refund and confirm the cancellation", [
        "I cancelled our {plan} plan last month and you still charged ${amount} in {month}.",
        "Why was I charged ${amount}? The {plan} subscription was cancelled before {month}.",
    ]),
    "vat_invoice": ("BILLING", "low", "Needs a VAT invoice for {month}", "email the VAT invoice", [
        "Our accountant needs a proper VAT invoice for the {month} payment.",
        "Could you send me the {month} invoice with our VAT number on it?",
    ]),
    "reset_email": ("ACCESS", "medium", "Password reset email not arriving", "resend the reset link and check spam filtering", [
        "I asked for a password reset three times and no email ever arrived.",
        "The forgot-password link says an email was sent, but my inbox stays empty.",
    ]),
    "lost_2fa": ("ACCESS", "high", "Locked out after losing the two-factor phone", "verify identity and reset two-factor", [
        "I lost my phone with the authenticator codes and now I cannot log in at all.",
        "My phone was stolen and the two-factor codes were on it. I am locked out of the account.",
    ]),
    "invite": ("ACCESS", "low", "Team invite for {name} never arrived", "resend the team invite", [
        "I invited my colleague {name} to our account yesterday but the invite never showed up.",
        "{name} from my team says they never got the invitation email to join our workspace.",
    ]),
    "crash": ("BUG", "impact", "{app} crashes when {action}", "collect crash logs and escalate to engineering", [
        "The {app} closes by itself every time I try {action}.",
        "Since the last update, the {app} crashes as soon as I start {action}.",
    ]),
    "export": ("BUG", "impact", "{fmt} export from the {app} is empty", "reproduce the export and escalate to engineering", [
        "When I export my order history to {fmt} from the {app}, the file is empty.",
        "The {fmt} export in the {app} downloads a blank file with no rows.",
    ]),
    "error_code": ("BUG", "impact", "{app} shows error {code} at checkout", "check the server logs for error {code}", [
        "Every time we try to check out in the {app} we get error {code} and the order fails.",
        "Checkout in the {app} stops with the message 'error {code}'. The basket stays full.",
    ]),
    "late": ("SHIPPING", "days", "Order {order} not delivered after {days} days", "ask the carrier for a trace", [
        "Order {order} was placed {days} days ago and still has not arrived.",
        "It has been {days} days and my order {order} is nowhere. Tracking has not moved.",
    ]),
    "damaged": ("SHIPPING", "medium", "{item} from order {order} arrived damaged", "send a replacement unit", [
        "The {item} in order {order} arrived with a cracked frame and a dented box.",
        "My {item} (order {order}) came broken. One part snapped off in the box.",
    ]),
    "wrong_item": ("SHIPPING", "medium", "Received {other} instead of {item} in order {order}", "ship the correct item with a return label", [
        "I ordered a {item} (order {order}) but the box contained a {other}.",
        "Order {order} should have been a {item}. You sent me a {other} instead.",
    ]),
    "address": ("SHIPPING", "low", "Change the delivery address for order {order}", "update the address before dispatch", [
        "We moved offices. Can you send order {order} to our new address instead?",
        "Please change the shipping address on order {order}; it has not shipped yet.",
    ]),
    "feature": ("FEATURE", "low", "Wants {feature} in the {app}", "log the request for the product team", [
        "It would be great if the {app} had {feature}. We would use it every day.",
        "Any plans to add {feature} to the {app}? Our team keeps asking for it.",
    ]),
    "howto": ("HOWTO", "low", "Asks how to {task}", "send the help article on how to {task}", [
        "How do I {task}? I looked through the settings and could not find it.",
        "Quick question: is there a way to {task}?",
    ]),
}

# fmt: on


def _slots(rng: random.Random) -> dict[str, str]:
    item, other = rng.sample(ITEMS, 2)
    business = rng.choice(BUSINESSES)
    return {
        "month": rng.choice(MONTHS),
        "amount": f"{rng.randint(19, 480)}.{rng.choice(['00', '50', '99'])}",
        "plan": rng.choice(PLANS),
        "app": rng.choice(APPS),
        "item": item,
        "other": other,
        "fmt": rng.choice(FORMATS),
        "action": rng.choice(ACTIONS),
        "feature": rng.choice(FEATURES),
        "task": rng.choice(TASKS),
        "name": rng.choice(NAMES),
        "order": f"NW-{rng.randint(10000, 99999)}",
        "days": str(rng.choice([4, 5, 6, 8, 9, 12, 14, 16, 21])),
        "code": str(rng.choice([402, 409, 500, 502, 503])),
        "years": str(rng.randint(2, 9)),
        "staff": str(rng.randint(3, 40)),
        "business": business,
        "business_slug": business.replace(" ", "") + ".com",
    }


def make_row(kind: str, rng: random.Random) -> dict:
    category, urgency, summary, step, phrasings = PROBLEMS[kind]
    slots = _slots(rng)
    extra = ""
    if urgency == "impact":
        urgency = rng.choice(["high", "medium", "low"])
        extra = rng.choice(IMPACT[urgency])
    elif urgency == "days":
        # A late order is urgent once it is more than ten days overdue.
        urgency = "high" if int(slots["days"]) > 10 else "medium"
    signature = rng.choice(NAMES)
    slots["name_lower"] = signature.lower()
    body = rng.choice(phrasings).format(**slots)
    context = [c.format(**slots) for c in rng.sample(CONTEXT, rng.choice([1, 2, 2, 3]))]
    sentences = [body, *context, extra] if rng.random() < 0.5 else [*context, body, extra]
    closing = rng.choice(CLOSINGS)
    parts = [
        rng.choice(GREETINGS),
        " ".join(p for p in sentences if p),
        f"{closing}\n{signature}" if closing else signature,
    ]
    ticket = "\n".join(p for p in parts if p)
    summary_text = summary.format(**slots)
    summary_text = summary_text[0].upper() + summary_text[1:]
    answer = f"[{category}] {summary_text} | urgency: {urgency} | next: {step.format(**slots)}"
    return {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": ticket},
            {"role": "assistant", "content": answer},
        ]
    }


def generate(rows: int = 240, seed: int = 20261122) -> list[dict]:
    rng = random.Random(seed)
    kinds = list(PROBLEMS)
    out, seen = [], set()
    while len(out) < rows:
        row = make_row(kinds[len(out) % len(kinds)], rng)
        key = row["messages"][1]["content"]
        if key not in seen:  # no exact duplicates: they would leak into validation
            seen.add(key)
            out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("support_summaries.jsonl"))
    parser.add_argument("--rows", type=int, default=240)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in generate(args.rows, args.seed))
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.rows} rows to {args.out}")


if __name__ == "__main__":
    main()
