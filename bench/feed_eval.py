"""Offline quality benchmark of the interest feed on MovieLens-100k (protocol: interest-feed.md).

Runs redfed's own ranking code (redfed.services.feed) through an adapter against a 7-day
popularity ranker and a chronological follow-style ranker. Prints a table; the LAST line is JSON.
Usage: .venv/bin/python bench/feed_eval.py [--boot 1000]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from redfed.services.feed.coengagement import (
    DEFAULT_TOP_K,
    RECENT_POSITIVES,
    SEED_LIKES,
    STORED_NEIGHBOURS,
    decay_factor,
    decay_neighbours,
    like_increments,
    neighbour_scores,
    top_neighbours,
)
from redfed.services.feed.explore import PAGE_SIZE
from redfed.services.feed.profile import apply_event, profile_from_interests
from redfed.services.feed.rerank import jaccard, rerank
from redfed.services.feed.scoring import score_candidates
from redfed.services.feed.trending import TRENDING_WINDOW, trending_scores
from redfed.services.feed.types import Candidate, FeedEvent, FeedSettings

K = 10
# Cut-offs: windows 0–4 (20 … 60 %) are for tuning — five cuts (~735 warm viewers), because
# two windows (~340) could not tell settings ±.005 apart and one picked settings the later
# windows did not confirm. Each tuning window's test ends where the next begins; tuning reads
# nothing past 70 %. Windows 5–7 (70, 80, 90 %) are reported.
QUANTILES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
TUNING = 5
DAY = 86400.0
POP_HALF_LIFE_DAYS = 7.0  # the popularity baseline's gravity
SMALL_AUTHOR_LIKES = 5  # an author with fewer prior likes is "small"
NEW_AUTHOR_DAYS = 14.0  # an author whose first note is this recent is "new"
NEIGHBOURS_K = DEFAULT_TOP_K  # what the server serves per note (it stores STORED_NEIGHBOURS)
DATA_DIR = Path(__file__).resolve().parent / ".data"  # git-ignored
LANGS = {
    "m.02h40lc": "en",
    "m.064_8sq": "fr",
    "m.06nm1": "es",
    "m.02bjrlw": "it",
    "m.04306rv": "de",
}
EVENT_OF_RATING = {5: FeedEvent.LIKE, 4: FeedEvent.LIKE, 3: FeedEvent.OPEN}


# ----------------------------------------------------------------------------- data
def find_ml100k() -> Path:
    """The dataset directory inside the recbole wheel; installs the wheel when missing."""
    rel = Path("recbole/dataset_example/ml-100k")
    for base in [*map(Path, sys.path), DATA_DIR / "recbole"]:
        if (base / rel / "ml-100k.inter").exists():
            return base / rel
    target = DATA_DIR / "recbole"
    print(f"installing recbole==1.2.1 (data only) into {target}", file=sys.stderr)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            "recbole==1.2.1",
        ],
        check=True,
    )
    return target / rel


def read_tsv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", errors="replace") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[1:]


@dataclass(frozen=True)
class Item:
    tags: frozenset[str]
    genres: tuple[str, ...]
    author: int
    language: str


def load(d: Path) -> tuple[dict[int, Item], list[tuple[int, int, int, float]]]:
    entity_of = {int(r[0]): r[1] for r in read_tsv(d / "ml-100k.link")}
    facts: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for head, rel, tail in read_tsv(d / "ml-100k.kg"):
        facts[head][rel].append(tail)
    authors: dict[str, int] = {}
    items: dict[int, Item] = {}
    for row in read_tsv(d / "ml-100k.item"):
        iid = int(row[0])
        genres = tuple(g.lower() for g in row[3].split())
        f = facts.get(entity_of.get(iid, ""), {})
        subjects = [f"s:{s}" for s in f.get("film.film.subjects", [])]
        kg_genres = [f"g:{g}" for g in f.get("film.film.genre", [])]
        director = (f.get("film.film.directed_by") or [f"solo:{iid}"])[0]
        lang = (f.get("film.film.language") or ["und"])[0]
        items[iid] = Item(
            frozenset([*genres, *subjects, *kg_genres]),
            genres,
            authors.setdefault(director, len(authors) + 1),
            LANGS.get(lang, lang),
        )
    events = [
        (int(u), int(i), int(float(r)), float(t)) for u, i, r, t in read_tsv(d / "ml-100k.inter")
    ]
    events.sort(key=lambda e: e[3])
    return items, events


def to_dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# ----------------------------------------------------------------------------- replay
@dataclass
class Snapshot:
    """Everything known at one cut-off, built only from events before it."""

    cut: float
    profiles: dict
    co_counts: dict[int, dict[int, float]]  # decayed co-counts; top-K chosen in build_window
    recent_likes: dict[int, list[int]]
    dislikes: dict[int, list[int]]
    seen: dict[int, set[int]]
    liked_authors: dict[int, set[int]]
    n_events: Counter


class Replay:
    """Feeds events in time order through the project's profile and co-engagement maths."""

    def __init__(self, items: dict[int, Item], settings: FeedSettings) -> None:
        self.items, self.settings = items, settings
        self.profiles: dict = {}
        self.pairs: dict[int, dict[int, float]] = defaultdict(dict)
        self.recent: dict[int, list[int]] = defaultdict(list)
        self.dislikes: dict[int, list[int]] = defaultdict(list)
        self.positives: Counter = Counter()
        self.seen: dict[int, set[int]] = defaultdict(set)
        self.liked_authors: dict[int, set[int]] = defaultdict(set)
        self.n_events: Counter = Counter()
        self.t0: float | None = None

    def _growth(self, ts: float) -> float:
        """Increments are stored times 2^(Δt/H) from the first event, so one multiplication at
        the cut decays every pair exactly as the periodic maintenance job would."""
        if self.t0 is None:
            self.t0 = ts
        return 1.0 / decay_factor(ts - self.t0, self.settings.neighbour_half_life_days)

    def add(self, user: int, iid: int, rating: int, ts: float) -> None:
        item = self.items[iid]
        event = EVENT_OF_RATING.get(rating, FeedEvent.NOT_INTERESTED)
        profile = self.profiles.get(user) or profile_from_interests(
            (), (), to_dt(ts), self.settings
        )
        self.profiles[user] = apply_event(
            profile,
            event,
            tags=item.tags,
            author_id=item.author,
            language=item.language,
            now=to_dt(ts),
            settings=self.settings,
        )
        self.seen[user].add(iid)
        self.n_events[user] += 1
        if event is FeedEvent.LIKE:
            self.positives[user] += 1
            grow = self._growth(ts)
            touched = set()
            for a, b, inc in like_increments(iid, self.recent[user], self.positives[user]):
                row = self.pairs[a]
                row[b] = row.get(b, 0.0) + inc * grow
                touched.add(a)
            # Like the server's pairing job: every touched note keeps its stored top pairs.
            for a in touched:
                if len(self.pairs[a]) > STORED_NEIGHBOURS:
                    self.pairs[a] = top_neighbours(self.pairs[a], STORED_NEIGHBOURS)
            # Like the server: pairs with the last RECENT_POSITIVES likes (signals.py).
            self.recent[user] = [iid, *self.recent[user][: RECENT_POSITIVES - 1]]
            self.liked_authors[user].add(item.author)
        elif event is FeedEvent.NOT_INTERESTED:
            self.dislikes[user] = [iid, *self.dislikes[user][:9]]

    def snapshot(self, cut: float) -> Snapshot:
        t0 = self.t0 if self.t0 is not None else cut
        factor = decay_factor(cut - t0, self.settings.neighbour_half_life_days)
        return Snapshot(
            cut,
            dict(self.profiles),
            {i: decay_neighbours(row, factor, 0.0) for i, row in self.pairs.items()},
            {u: v[:SEED_LIKES] for u, v in self.recent.items()},  # candidates.by_neighbours
            {u: list(v) for u, v in self.dislikes.items()},
            {u: set(v) for u, v in self.seen.items()},
            {u: set(v) for u, v in self.liked_authors.items()},
            Counter(self.n_events),
        )


def snapshots(
    items: dict[int, Item], events: list, cuts: list[float], s: FeedSettings
) -> list[Snapshot]:
    replay, out, pos = Replay(items, s), [], 0
    for cut in cuts:
        while pos < len(events) and events[pos][3] < cut:
            replay.add(*events[pos])
            pos += 1
        out.append(replay.snapshot(cut))
    return out


# ----------------------------------------------------------------------------- one window
@dataclass
class Viewer:
    user: int
    cold: bool
    profile: object
    now: float
    recent_likes: list[int]
    dislikes: list[int]
    seen: set[int]
    followed: set[int]
    relevant: set[int]


@dataclass
class Window:
    cut: float
    catalogue: list[int]
    base: dict[int, Candidate]
    pop_order: list[int]
    by_author: dict[int, list[int]]
    influencers: set[int]
    neighbours: dict[int, dict[int, float]]
    viewers: list[Viewer]


def decayed(train: list, cut: float, half_life: float, weights: dict[int, float]) -> Counter:
    out: Counter = Counter()
    for _, iid, rating, ts in train:
        out[iid] += weights.get(rating, 0.0) * 2.0 ** (-(cut - ts) / (half_life * DAY))
    return out


def build_window(
    items: dict[int, Item],
    events: list,
    snap: Snapshot,
    end: float,
    first_ts: dict[int, float],
    s: FeedSettings,
) -> Window:
    cut = snap.cut
    train = [e for e in events if e[3] < cut]
    catalogue = sorted(i for i, t in first_ts.items() if t < cut)
    weights = {5: 1.0, 4: 1.0, 3: 0.3}  # signals.ENGAGEMENT_WEIGHTS: like 1, open .3
    eng = decayed(train, cut, s.engagement_half_life_days, weights)
    # The author signal decays on its own, longer horizon (maintenance.decay_signals).
    author_signal = decayed(train, cut, s.author_half_life_days, weights)
    pop = decayed(train, cut, POP_HALF_LIFE_DAYS, {5: 1.0, 4: 1.0, 3: 0.5})
    author_eng: Counter = Counter()
    author_likes: Counter = Counter()
    author_first: dict[int, float] = {}
    by_author: dict[int, list[int]] = defaultdict(list)
    for iid in catalogue:
        a = items[iid].author
        author_eng[a] += author_signal[iid]
        author_first[a] = min(author_first.get(a, cut), first_ts[iid])
        by_author[a].append(iid)
    for _, iid, rating, _ in train:
        author_likes[items[iid].author] += rating >= 4
    for lst in by_author.values():
        lst.sort(key=lambda i: -first_ts[i])  # newest first, for the chronological baseline
    # The maintenance job's trending: the last day's likes before the cut (trending.py).
    since = cut - TRENDING_WINDOW.total_seconds()
    day_likes = Counter(iid for _, iid, rating, ts in train if ts >= since and rating >= 4)
    trending = trending_scores(day_likes, {i: items[i].language for i in catalogue})
    base = {}
    for iid in catalogue:
        it = items[iid]
        small = (
            author_likes[it.author] < SMALL_AUTHOR_LIKES
            or cut - author_first[it.author] < NEW_AUTHOR_DAYS * DAY
        )
        base[iid] = Candidate(
            iid,
            it.author,
            it.tags,
            it.language,
            to_dt(first_ts[iid]),
            eng[iid],
            author_eng[it.author],
            small,
            frozenset({"interest", "trending"} if iid in trending else {"interest"}),
            trending=trending[iid][1] if iid in trending else 0.0,
        )
    n_top = max(1, math.ceil(0.01 * len(by_author)))
    influencers = {a for a, _ in sorted(author_likes.items(), key=lambda kv: -kv[1])[:n_top]}
    pop_order = sorted(catalogue, key=lambda i: (-pop[i], -first_ts[i]))
    cat = set(catalogue)
    test = [e for e in events if cut <= e[3] < end]
    viewers = warm_viewers(snap, test, cat) + cold_viewers(items, snap, test, cat, s)
    # The server serves each note's top-K stored neighbours by decayed co-count (candidates.py).
    neighbours = {i: top_neighbours(row, NEIGHBOURS_K) for i, row in snap.co_counts.items()}
    return Window(cut, catalogue, base, pop_order, by_author, influencers, neighbours, viewers)


def warm_viewers(snap: Snapshot, test: list, cat: set[int]) -> list[Viewer]:
    relevant: dict[int, set[int]] = defaultdict(set)
    for u, iid, rating, _ in test:
        if rating >= 4 and iid in cat and snap.n_events[u] >= 5 and iid not in snap.seen[u]:
            relevant[u].add(iid)
    return [
        Viewer(
            u,
            False,
            snap.profiles[u],
            snap.cut,
            snap.recent_likes.get(u, []),
            snap.dislikes.get(u, []),
            snap.seen[u],
            snap.liked_authors.get(u, set()),
            rel,
        )
        for u, rel in sorted(relevant.items())
    ]


def cold_viewers(
    items: dict[int, Item], snap: Snapshot, test: list, cat: set[int], s: FeedSettings
) -> list[Viewer]:
    """New people: their first 5 actions and top-3 genres of those as sign-up interests."""
    actions: dict[int, list] = defaultdict(list)
    for e in test:
        if snap.n_events[e[0]] == 0:
            actions[e[0]].append(e)
    out = []
    for u, evs in sorted(actions.items()):
        first, rest = evs[:5], evs[5:]
        seen = {e[1] for e in first}
        rel = {e[1] for e in rest if e[2] >= 4 and e[1] in cat and e[1] not in seen}
        if len(first) < 5 or not rel:
            continue
        genres = Counter(g for e in first if e[2] >= 3 for g in items[e[1]].genres)
        top3 = [g for g, _ in genres.most_common(3)]
        replay = Replay(items, s)
        replay.profiles[u] = profile_from_interests(top3, (), to_dt(first[0][3]), s)
        for e in first:
            replay.add(*e)
        out.append(
            Viewer(
                u,
                True,
                replay.profiles[u],
                first[-1][3],
                replay.recent[u],
                replay.dislikes[u],
                seen,
                replay.liked_authors[u],
                rel,
            )
        )
    return out


# ----------------------------------------------------------------------------- rankers
Timings = list[tuple[int, float, float, float, float]]  # n, wall and CPU s of score, rerank


def rank_redfed(
    win: Window, v: Viewer, s: FeedSettings, timings: Timings, page_size: int = PAGE_SIZE
) -> list[int]:
    """The adapter: viewer state -> Candidates -> score_candidates -> rerank (project code),
    called as explore_page calls them: no tag IDF and no server-wide references (scoring takes
    them from the candidates), a page of explore.PAGE_SIZE re-ranked as one (author cap and
    new-creator quota over the page). The metrics read its first K cards."""
    neighbours = neighbour_scores(v.recent_likes, win.neighbours, v.dislikes)
    cands = []
    for iid in win.catalogue:
        if iid in v.seen:
            continue
        c = win.base[iid]
        if iid in neighbours:
            score, via = neighbours[iid]
            c = replace(c, coengagement=score, via_note_id=via, sources=c.sources | {"neighbours"})
        cands.append(c)
    t0, c0 = time.perf_counter(), time.process_time()
    scored = score_candidates(
        v.profile, cands, s, to_dt(v.now), limit=s.mmr_pool + 2 * page_size
    )  # exactly explore_page's call
    t1, c1 = time.perf_counter(), time.process_time()
    page = rerank(scored, s, page_size)
    t2, c2 = time.perf_counter(), time.process_time()
    timings.append((len(cands), t1 - t0, t2 - t1, c1 - c0, c2 - c1))
    return [x.candidate.note_id for x in page[:K]]


def rank_popularity(win: Window, v: Viewer) -> list[int]:
    out = []
    for iid in win.pop_order:
        if iid not in v.seen:
            out.append(iid)
            if len(out) == K:
                break
    return out


def rank_chronological(win: Window, v: Viewer) -> list[int]:
    """Follow-style proxy: newest notes of the authors the person liked before."""
    pool = [i for a in v.followed for i in win.by_author.get(a, [])[:K] if i not in v.seen]
    pool.sort(key=lambda i: (-win.base[i].published_at.timestamp(), i))
    return pool[:K]


# ----------------------------------------------------------------------------- metrics
def list_metrics(ranked: list[int], relevant: set[int]) -> tuple[float, float, float]:
    gains = [1.0 / math.log2(r + 2) for r, i in enumerate(ranked) if i in relevant]
    ideal = sum(1.0 / math.log2(r + 2) for r in range(min(len(relevant), K)))
    hits = len(gains)
    return sum(gains) / ideal, hits / len(relevant), float(hits > 0)


def gini(x: np.ndarray) -> float:
    if x.sum() == 0:
        return 0.0
    x = np.sort(x)
    n = len(x)
    return float(2 * np.sum(np.arange(1, n + 1) * x) / (n * x.sum()) - (n + 1) / n)


def window_metrics(win: Window, lists: list[list[int]], items: dict[int, Item]) -> dict[str, float]:
    shown = [i for lst in lists for i in lst]
    exposure = Counter(items[i].author for i in shown)
    diversity = []
    for lst in lists:
        pairs = [(a, b) for n, a in enumerate(lst) for b in lst[n + 1 :]]
        if pairs:
            diversity.append(np.mean([1 - jaccard(items[a].tags, items[b].tags) for a, b in pairs]))
    return {
        "coverage": len(set(shown)) / len(win.catalogue),
        "author_gini": gini(np.array([exposure[a] for a in win.by_author], float)),
        "top1_author_share": sum(exposure[a] for a in win.influencers) / max(1, len(shown)),
        "diversity": float(np.mean(diversity)) if diversity else float("nan"),
    }


def paired_ci(
    a: np.ndarray, b: np.ndarray, boots: int, seed: int = 7
) -> tuple[float, float, float]:
    """Mean of a − b over the same viewers, with a 95 % paired bootstrap interval."""
    d = a - b
    if len(d) == 0:
        return (float("nan"),) * 3
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), (boots, len(d)))].mean(axis=1)
    return float(d.mean()), float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


# ----------------------------------------------------------------------------- main
def evaluate(windows: list[Window], rankers: dict, items: dict[int, Item]) -> dict[str, dict]:
    out = {}
    for name, rank in rankers.items():
        per_user: dict[str, list] = {"warm": [], "cold": []}
        per_window = []
        for win in windows:
            lists = []
            for v in win.viewers:
                ranked = rank(win, v)
                lists.append(ranked)
                per_user["cold" if v.cold else "warm"].append(list_metrics(ranked, v.relevant))
            per_window.append(window_metrics(win, lists, items))
        out[name] = summarise(per_user, per_window)
    return out


def summarise(per_user: dict[str, list], per_window: list[dict[str, float]]) -> dict:
    summary: dict = {"_users": {k: np.array(v).reshape(-1, 3) for k, v in per_user.items()}}
    for group, rows in summary["_users"].items():
        for col, metric in enumerate(("ndcg10", "recall10", "hit10")):
            summary[f"{metric}_{group}"] = float(rows[:, col].mean()) if len(rows) else float("nan")
    for key in per_window[0]:
        summary[key] = float(np.nanmean([w[key] for w in per_window]))
    return summary


COLUMNS = (
    "ndcg10_warm",
    "ndcg10_cold",
    "recall10_warm",
    "hit10_warm",
    "coverage",
    "author_gini",
    "top1_author_share",
    "diversity",
)


def print_table(title: str, results: dict[str, dict]) -> None:
    print(f"\n{title}")
    print(f"{'ranker':<28}" + "".join(f"{c:>19}" for c in COLUMNS))
    for name, r in results.items():
        print(f"{name:<28}" + "".join(f"{r[c]:>19.3f}" for c in COLUMNS))


def print_cis(results: dict[str, dict], boots: int) -> None:
    base = results["popularity 7-day"]["_users"]
    for name in ("redfed default", "redfed damped α=1"):
        for group in ("warm", "cold"):
            mean, lo, hi = paired_ci(results[name]["_users"][group][:, 0], base[group][:, 0], boots)
            print(
                f"  NDCG@10 {group}: {name} − popularity = {mean:+.3f}"
                f"  95% CI [{lo:+.3f}, {hi:+.3f}]"
            )


# Every term of the linear score off: a component alone is one weight on, no damping.
_NO_TERMS = dict(
    w_coengagement=0.0,
    w_tags=0.0,
    w_author=0.0,
    w_popularity=0.0,
    w_language=0.0,
    w_freshness=0.0,
    w_trending=0.0,
    alpha=0.0,
)


def alone(s: FeedSettings, weight: str) -> FeedSettings:
    """The settings with one component of the score alone (same scaling, same re-rank)."""
    return replace(s, **{**_NO_TERMS, weight: 1.0})


def make_rankers(s: FeedSettings, timings: Timings) -> dict:
    damped = replace(s, alpha=1.0)
    no_damping = replace(s, alpha=0.0)
    components = {
        f"{name} alone": (lambda w, v, c=alone(s, weight): rank_redfed(w, v, c, []))
        for name, weight in (
            ("co-engagement", "w_coengagement"),
            ("tags", "w_tags"),
            ("popularity", "w_popularity"),
        )
    }
    return {
        **components,
        "popularity 7-day": rank_popularity,
        "chronological (follow)": rank_chronological,
        "redfed α=0": lambda w, v: rank_redfed(w, v, no_damping, []),
        "redfed default": lambda w, v: rank_redfed(w, v, s, timings),
        # The same settings on a page of K: the new-creator quota then lands in the top K.
        f"redfed default, page {K}": lambda w, v: rank_redfed(w, v, s, [], K),
        "redfed damped α=1": lambda w, v: rank_redfed(w, v, damped, []),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--boot", type=int, default=1000, help="bootstrap resamples")
    ap.add_argument(
        "--tuning-only",
        action="store_true",
        help="tuning windows only: reads nothing past the 70 %% cut, prints no held-out figures",
    )
    args = ap.parse_args()
    started = time.perf_counter()
    items, events = load(find_ml100k())
    s = FeedSettings()
    ts = np.array([e[3] for e in events])
    cuts = [float(np.quantile(ts, q)) for q in QUANTILES]
    ends = [*cuts[1:], float(ts.max()) + 1]
    first_ts: dict[int, float] = {}
    for _, iid, _, t in events:
        first_ts.setdefault(iid, t)
    if args.tuning_only:  # the tuning windows' tests end at the 70 % cut
        events = [e for e in events if e[3] < cuts[TUNING]]
        cuts, ends = cuts[:TUNING], ends[:TUNING]
    snaps = snapshots(items, events, cuts, s)
    windows = [build_window(items, events, sn, end, first_ts, s) for sn, end in zip(snaps, ends)]
    timings: Timings = []
    rankers = make_rankers(s, timings)
    # Targets are judged on the tuning windows' mean, as the reported ones are on theirs; the
    # per-window line shows how much one window moves.
    tuning = evaluate(windows[:TUNING], rankers, items)
    print_table(f"windows 0-{TUNING - 1} (tuning, mean)", tuning)
    for name in ("popularity 7-day", "redfed default"):
        per = [evaluate([w], {name: rankers[name]}, items)[name] for w in windows[:TUNING]]
        print(
            f"  {name}, per tuning window (NDCG warm / top-1 % / coverage): "
            + "  ".join(
                f"{r['ndcg10_warm']:.3f}/{r['top1_author_share']:.3f}/{r['coverage']:.3f}"
                for r in per
            )
        )
    if args.tuning_only:
        return
    held = evaluate(windows[TUNING:], rankers, items)
    print_table(f"windows {TUNING}-{len(windows) - 1} (reported)", held)
    print_cis(held, args.boot)
    n, score_s, rerank_s, score_cpu, rerank_cpu = (np.array(col) for col in zip(*timings))
    print(
        f"\nviewers per window: {[len(w.viewers) for w in windows]} "
        f"(cold: {[sum(v.cold for v in w.viewers) for w in windows]})"
    )
    print(
        f"score_candidates: median {np.median(score_s) * 1e3:.2f} ms"
        f" (CPU {np.median(score_cpu) * 1e3:.2f} ms) for median {int(np.median(n))} "
        f"candidates; rerank (page {PAGE_SIZE}): median {np.median(rerank_s) * 1e3:.2f} ms"
        f" (CPU {np.median(rerank_cpu) * 1e3:.2f} ms); "
        f"total run {time.perf_counter() - started:.0f} s"
    )
    keys = ("ndcg10_warm", "ndcg10_cold", "coverage", "top1_author_share", "diversity")
    d, p = held["redfed default"], held["popularity 7-day"]
    report = {k: round(d[k], 4) for k in keys}
    report.update(pop_ndcg10_warm=round(p["ndcg10_warm"], 4), pop_coverage=round(p["coverage"], 4))
    report["damped"] = {k: round(held["redfed damped α=1"][k], 4) for k in keys}
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
