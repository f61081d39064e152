"""Routing quality on real customer text: rules alone, rules + learner at 0/50/200/400 labels, a plain learner.

    python bench/quality_routing.py --data ../shared/data

Two sets, each grouped into the departments a business of that kind would have (the groupings below and the
rules in bench/data/*.yaml were written from the category names and the trade, before any run, and not tuned):

- BANKING77 (banking77_test.csv): 77 intents -> 7 departments of a retail bank, rules bench/data/bank_rules.yaml.
- Loan complaints (loan_complaints.csv): 24 CFPB ``issue`` values -> 6 departments of a consumer lender, rules
  bench/data/lender_rules.yaml.

Protocol, per seed (5 seeds): shuffle; the first N rows (N = 0, 50, 200, 400) are the labelled examples the
learner gets, every row after the first 400 is the test set (the same for every N, so the columns compare).
"rules + learner" is stories.blended_routing with stories.learning trained on the N examples, exactly as the bot
runs it. "plain learner" is TF-IDF (1-2-grams) + logistic regression (C = 10: the setting that reproduces the
data README's floors), trained on N and tested on the same rows; it is also run on the original labels (77 intents, 24 issues)
to stand beside the README's floors. Figures are means over the seeds.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Row
from bot.config import load_config
from stories.blended_routing import Scores, blend, predict, route_text, score, with_rules
from stories.learning import Example, LearnedModel, train
from stories.routing import Router

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data"  # ../shared/data beside a checkout in /work
SEEDS = (0, 1, 2, 3, 4)
LABELS = (0, 50, 200, 400)
TEST_FROM = 400
PLAIN_C = 10.0  # the C that reproduces the data README's floors (C=1 gives 0.159 at N=200 on 77 intents, not 0.333)

BANK_GROUPS: dict[str, tuple[str, ...]] = {
    "Cards": (
        "activate_my_card card_about_to_expire card_arrival card_delivery_estimate card_linking card_not_working "
        "contactless_not_working get_physical_card getting_spare_card order_physical_card change_pin pin_blocked "
        "card_swallowed visa_or_mastercard get_disposable_virtual_card getting_virtual_card virtual_card_not_working "
        "disposable_card_limits apple_pay_or_google_pay card_acceptance atm_support"
    ).split(),
    "Card Payments & Disputes": (
        "card_payment_fee_charged card_payment_not_recognised card_payment_wrong_exchange_rate declined_card_payment "
        "pending_card_payment reverted_card_payment? transaction_charged_twice direct_debit_payment_not_recognised "
        "request_refund Refund_not_showing_up extra_charge_on_statement cash_withdrawal_charge "
        "cash_withdrawal_not_recognised declined_cash_withdrawal pending_cash_withdrawal wrong_amount_of_cash_received "
        "wrong_exchange_rate_for_cash_withdrawal"
    ).split(),
    "Transfers": (
        "balance_not_updated_after_bank_transfer beneficiary_not_allowed cancel_transfer declined_transfer "
        "failed_transfer pending_transfer receiving_money transfer_fee_charged transfer_into_account "
        "transfer_not_received_by_recipient transfer_timing"
    ).split(),
    "Top-ups": (
        "automatic_top_up balance_not_updated_after_cheque_or_cash_deposit pending_top_up "
        "top_up_by_bank_transfer_charge top_up_by_card_charge top_up_by_cash_or_cheque top_up_failed top_up_limits "
        "top_up_reverted topping_up_by_card verify_top_up"
    ).split(),
    "Foreign Exchange": (
        "exchange_charge exchange_rate exchange_via_app fiat_currency_support supported_cards_and_currencies "
        "country_support"
    ).split(),
    "Fraud & Security": (
        "compromised_card lost_or_stolen_card lost_or_stolen_phone passcode_forgotten unable_to_verify_identity "
        "verify_my_identity why_verify_identity verify_source_of_funds"
    ).split(),
    "Accounts": "age_limit edit_personal_details terminate_account".split(),
}

LENDER_GROUPS: dict[str, tuple[str, ...]] = {
    "Fees & Interest": (
        "Charged fees or interest you didn't expect",
        "Problem with additional add-on products or services",
    ),
    "Payments & Servicing": (
        "Problem when making payments",
        "Money was taken from your bank account on the wrong day or for the wrong amount",
        "Can't stop withdrawals from your bank account",
        "Loan payment wasn't credited to your account",
        "Problem with the payoff process at the end of the loan",
        "Can't contact lender or servicer",
    ),
    "Collections & Hardship": (
        "Struggling to pay your loan",
        "Vehicle was repossessed or sold the vehicle",
        "Vehicle was damaged or destroyed the vehicle",
        "Property was damaged or destroyed property",
    ),
    "Lending": (
        "Getting the loan",
        "Getting a line of credit",
        "Was approved for a loan, but didn't receive the money",
        "Credit limit changed",
        "Problem with cash advance",
    ),
    "Credit Reporting": (
        "Incorrect information on your report",
        "Improper use of your report",
        "Problem with a credit reporting company's investigation into an existing problem",
        "Unable to get your credit report or credit score",
        "Credit monitoring or identity theft protection services",
    ),
    "Fraud": (
        "Received a loan you didn't apply for",
        "Problem with fraud alerts or security freezes",
    ),
}

FLOORS = {
    "banking77": "README floor, 77 intents: N=200 0.333, N=400 0.492, N=1000 0.682",
    "loans": "README floor, 24 issues: N=200 0.293, N=400 0.321, N=1000 0.398",
}


def grouped(rows: Sequence[tuple[str, str]], groups: dict[str, tuple[str, ...]]) -> list[tuple[str, str, str]]:
    """(text, department, original label); every label must be in exactly one group."""
    department_of = {label: dept for dept, labels in groups.items() for label in labels}
    missing = sorted({label for _, label in rows} - set(department_of))
    if missing:
        raise SystemExit(f"labels with no department: {missing}")
    return [(text, department_of[label], label) for text, label in rows]


def load(path: Path, text_column: str, label_column: str) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            (row[text_column].strip(), row[label_column].strip())
            for row in csv.DictReader(handle)
            if row.get(text_column, "").strip() and row.get(label_column, "").strip()
        ]


def plain_learner(train_rows: Sequence[tuple[str, str]], test_texts: Sequence[str]) -> list[str]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2))
    matrix = vectorizer.fit_transform([t for t, _ in train_rows])
    classifier = LogisticRegression(C=PLAIN_C, max_iter=3000).fit(matrix, [label for _, label in train_rows])
    return [str(p) for p in classifier.predict(vectorizer.transform(test_texts))]


def model_costs(model: LearnedModel, texts: Sequence[str]) -> str:
    """The stored model's size, loading it, and predicting a median-length and the longest test text."""
    stored = model.to_json()
    began = time.perf_counter()
    loaded = LearnedModel.from_json(stored)
    load_ms = (time.perf_counter() - began) * 1000
    ordered = sorted(texts, key=len)
    found = []
    for label, text in (("median", ordered[len(ordered) // 2]), ("longest", ordered[-1])):
        began = time.perf_counter()
        for _ in range(50):
            loaded.predict(text)
        found.append(f"predict {label} ({len(text)} characters) {(time.perf_counter() - began) / 50 * 1000:.2f} ms")
    return f"JSON {len(stored) / 1e6:.2f} MB, load {load_ms:.0f} ms, " + ", ".join(found)


def mean_scores(runs: Sequence[Scores]) -> Scores:
    return Scores(
        examples=runs[0].examples,
        top1=statistics.mean(s.top1 for s in runs),
        among=statistics.mean(s.among for s in runs),
        per_story=statistics.mean(s.per_story for s in runs),
        default_only=statistics.mean(s.default_only for s in runs),
    )


def evaluate(
    name: str, rows: list[tuple[str, str, str]], rules: Path, *, seeds: Sequence[int] = SEEDS
) -> dict[str, Scores]:
    """Prints the table; returns the mean scores by method (and ``plain learner, original labels, N``)."""
    router = Router(load_config(rules))
    started = time.perf_counter()
    results: dict[str, list[Scores]] = {}
    plain_original: dict[int, list[float]] = {}
    training: dict[int, list[float]] = {}
    for seed in seeds:
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        test = shuffled[TEST_FROM:]
        test_examples = [Example(text=t, department=d) for t, d, _ in test]
        rule_routes = [route_text(router, e.text) for e in test_examples]
        results.setdefault("rules alone", []).append(score(test_examples, rule_routes))
        known = frozenset(router.departments)
        for n in LABELS:
            if n == 0:
                results.setdefault("rules + learner, 0 labels", []).append(score(test_examples, rule_routes))
                continue
            began = time.perf_counter()
            model = train(with_rules(router, [Example(text=t, department=d) for t, d, _ in shuffled[:n]]))
            training.setdefault(n, []).append(time.perf_counter() - began)
            if n == max(LABELS) and seed == seeds[0]:
                costs = model_costs(model, [e.text for e in test_examples])
            print(f"  seed {seed}, {n} labels: C {model.strength}, override ratio {model.override_ratio}", flush=True)
            blended = [
                blend(r, predict(model, r, e.text), known=known)
                for r, e in zip(rule_routes, test_examples, strict=False)
            ]
            results.setdefault(f"rules + learner, {n} labels", []).append(score(test_examples, blended))
        for n in (200, 400):
            predicted = plain_learner([(t, d) for t, d, _ in shuffled[:n]], [t for t, _, _ in test])
            correct = sum(p == d for p, (_, d, _) in zip(predicted, test, strict=True)) / len(test)
            results.setdefault(f"plain learner, {n} labels", []).append(
                Scores(examples=len(test), top1=correct, among=correct, per_story=1.0, default_only=0.0)
            )
            original = plain_learner([(t, o) for t, _, o in shuffled[:n]], [t for t, _, _ in test])
            plain_original.setdefault(n, []).append(
                sum(p == o for p, (_, _, o) in zip(original, test, strict=True)) / len(test)
            )
    departments = len({d for _, d, _ in rows})
    print(f"\n{name}: {len(rows)} rows, {departments} departments; test = {len(rows) - TEST_FROM} rows per seed")
    print(f"{'':28} {'top-1':>6} {'gold among':>10} {'depts/story':>11} {'default only':>12}")
    for label, runs in results.items():
        s = mean_scores(runs)
        print(f"{label:28} {s.top1:6.3f} {s.among:10.3f} {s.per_story:11.2f} {s.default_only:12.3f}")
    originals = ", ".join(f"N={n} {statistics.mean(v):.3f}" for n, v in plain_original.items())
    print(f"plain learner on the original labels, same run: {originals}  ({FLOORS[name]})")
    trained = ", ".join(f"{n} labels {statistics.mean(v):.1f} s" for n, v in training.items())
    print(f"training (mean per model, with its cross-validation): {trained}")
    print(f"model on {max(LABELS)} labels: {costs}")
    print(f"({time.perf_counter() - started:.0f} s on a shared 2-core machine, {len(seeds)} seeds)")
    means = {label: mean_scores(runs) for label, runs in results.items()}
    for n, values in plain_original.items():
        top1 = statistics.mean(values)
        means[f"plain learner, original labels, {n}"] = Scores(len(rows), top1, top1, 1.0, 0.0)
    return means


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder with banking77_test.csv, loan_complaints.csv"
    )
    parser.add_argument("--only", choices=["banking77", "loans"], help="one set (loans takes minutes)")
    parser.add_argument("--seeds", type=int, default=len(SEEDS), help="how many seeds (0, 1, ...); default 5")
    args = parser.parse_args(argv)
    bank, loans = args.data / "banking77_test.csv", args.data / "loan_complaints.csv"
    if not bank.is_file() or not loans.is_file():
        print(f"No banking77_test.csv / loan_complaints.csv under {args.data}; pass --data FOLDER")
        return 0
    if args.only != "loans":
        rows = grouped(load(bank, "text", "category"), BANK_GROUPS)
        evaluate("banking77", rows, HERE / "data" / "bank_rules.yaml", seeds=range(args.seeds))
    if args.only != "banking77":
        rows = grouped(load(loans, "narrative", "issue"), LENDER_GROUPS)
        evaluate("loans", rows, HERE / "data" / "lender_rules.yaml", seeds=range(args.seeds))
    return 0


README_FLOOR_400 = {"banking77": 0.492, "loans": 0.321}  # ../shared/data/README.md, original labels, N = 400


def rows(*, quick: bool, data: Path | None, pg: str | None) -> list[Row]:
    """For ``python -m bench --data DIR``: the issue's goal, rules + learner with 200 labels beside the plain
    learner with 400 on the same departments, and the plain learner on the original labels beside the data README's floor. BANKING77 only: the
    loans take over ten minutes on a shared 2-core machine (``python bench/quality_routing.py --only loans``)."""
    if data is None:
        return []
    sets = [("banking77", data / "banking77_test.csv", "text", "category", BANK_GROUPS, "bank_rules.yaml")]
    found = []
    for name, path, text_column, label_column, groups, rules in sets:
        means = evaluate(name, grouped(load(path, text_column, label_column), groups), HERE / "data" / rules)
        ours, plain = means["rules + learner, 200 labels"].top1, means["plain learner, 400 labels"].top1
        original = means["plain learner, original labels, 400"].top1
        found.append(
            Row(
                "quality_routing",
                f"{name}: department top-1, rules + learner, 200 labels",
                f"{ours:.3f}",
                f"plain learner, 400 labels {plain:.3f}",
                ">= the plain learner on twice the labels",
                ours >= plain,
            )
        )
        floor = README_FLOOR_400[name]
        found.append(
            Row(
                "quality_routing",
                f"{name}: plain learner, original labels, 400",
                f"{original:.3f}",
                f"data README floor {floor:.3f}",
                "reproduces the floor (+-0.03)",
                abs(original - floor) <= 0.03,
            )
        )
    return found


if __name__ == "__main__":
    raise SystemExit(main())
