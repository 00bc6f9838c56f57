from shared.cooldown import PRIVATE_FACTOR, Cooldown


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


def test_private_answers_have_their_own_larger_allowance() -> None:
    clock = Clock()
    cooldown = Cooldown(2, 30, clock=clock)
    assert [cooldown.wait_time("a") for _ in range(2)] == [0, 0]
    assert cooldown.wait_time("a") > 0, "the community allowance is used up"
    private = [cooldown.wait_time("a", private=True) for _ in range(PRIVATE_FACTOR * 2)]
    assert private == [0] * (PRIVATE_FACTOR * 2), "private answers are not refused for it"
    assert cooldown.wait_time("a", private=True) == 30 / (2 * PRIVATE_FACTOR)
    clock.now = 15.0
    assert cooldown.wait_time("a") == 0, "and they did not use the community allowance"
