from shared.cooldown import Cooldown


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_allows_a_burst_then_asks_to_wait_then_refills() -> None:
    clock = Clock()
    cooldown = Cooldown(3, 30, clock=clock)
    assert [cooldown.wait_time("person") for _ in range(3)] == [0, 0, 0]
    assert cooldown.wait_time("person") == 10.0
    clock.now = 10.0
    assert cooldown.wait_time("person") == 0


def test_people_are_independent() -> None:
    cooldown = Cooldown(1, 60, clock=Clock())
    assert cooldown.wait_time("a") == 0
    assert cooldown.wait_time("a") > 0
    assert cooldown.wait_time("b") == 0


def test_memory_is_bounded_and_holds_no_raw_ids() -> None:
    cooldown = Cooldown(1, 60, clock=Clock(), max_people=10)
    for person in range(100):
        cooldown.wait_time(f"user-{person}")
    assert len(cooldown._buckets) == 10
    assert all(b"user-" not in key for key in cooldown._buckets)


def test_zero_seconds_means_no_cooldown() -> None:
    cooldown = Cooldown(1, 0, clock=Clock())
    assert all(cooldown.wait_time("a") == 0 for _ in range(50))
