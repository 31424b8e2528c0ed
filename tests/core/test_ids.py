"""Ids: prefixed, sorted by creation time, unique across threads and processes."""

from __future__ import annotations

import os
import re
import threading

from core.ids import new_id


def test_an_id_is_its_prefix_the_time_and_eleven_random_hex_characters():
    assert re.fullmatch(r"inb_[0-9a-f]{15,16}[0-9a-f]{11}", new_id("inb"))


def test_ids_made_one_after_another_sort_in_creation_order():
    made = [new_id("evt") for _ in range(1000)]
    assert sorted(made) == made


def test_ids_made_on_many_threads_at_once_never_repeat():
    made: list[list[str]] = []

    def make() -> None:
        made.append([new_id("msg") for _ in range(5000)])

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for chunk in made for i in chunk]
    assert len(set(every)) == len(every) == 40_000


def test_a_forked_child_never_repeats_its_parents_random_part():
    new_id("warm")  # the parent holds random bytes it has not used yet
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids' random parts, then leave at once
        os.write(write, ",".join(new_id("c")[-11:] for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split(","))
    parent = {new_id("p")[-11:] for _ in range(50)}
    assert not child & parent
