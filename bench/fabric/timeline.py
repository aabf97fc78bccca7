"""Pure bookkeeping of what the harness saw on each bridge over time: when each became
correct, whether any flapped (correct, then broken, then correct again), and when the
whole set was first correct together."""

from dataclasses import dataclass, field


@dataclass
class BridgeHistory:
    first_correct: float | None = None  # seconds since the scenario's t0
    last_became_correct: float | None = None
    correct: bool = False
    ever_correct: bool = False
    breaks: int = 0  # correct -> broken transitions
    flaps: int = 0  # broken again after being correct, then correct again

    def observe(self, t, ok):
        if ok and not self.correct:
            if self.ever_correct:
                self.flaps += 1
            else:
                self.first_correct = t
            self.last_became_correct = t
            self.ever_correct = True
        elif not ok and self.correct:
            self.breaks += 1
        self.correct = ok


@dataclass
class FleetTimeline:
    """What was seen on a set of bridges during one scenario."""

    bridges: list
    history: dict = field(default_factory=dict)
    all_correct_at: float | None = None  # end of the first round in which every bridge was correct
    rounds: int = 0

    def __post_init__(self):
        for b in self.bridges:
            self.history.setdefault(b, BridgeHistory())

    def observe(self, bridge, t, ok):
        self.history[bridge].observe(t, ok)

    def end_round(self, t):
        self.rounds += 1
        if self.all_correct_at is None and self.all_correct():
            self.all_correct_at = t

    def all_correct(self):
        return all(h.correct for h in self.history.values())

    def flaps(self):
        return sum(h.flaps for h in self.history.values())

    def breaks(self):
        return sum(h.breaks for h in self.history.values())

    def bridges_flapped(self):
        return sum(1 for h in self.history.values() if h.breaks > 0)

    def settled_at(self):
        """When the last bridge last became correct, if all are correct now; else None."""
        if not self.all_correct():
            return None
        return max(h.last_became_correct for h in self.history.values())

    def first_correct_quantiles(self, qs=(0.5, 0.9, 1.0)):
        """Per-bridge first-correct times at the given quantiles (nearest rank), or None if any never was."""
        times = sorted(h.first_correct for h in self.history.values() if h.first_correct is not None)
        if len(times) != len(self.history) or not times:
            return None
        return [times[min(len(times) - 1, max(0, round(q * len(times)) - 1))] for q in qs]

    def never_correct(self):
        return sorted(b for b, h in self.history.items() if not h.ever_correct)
