"""The rulebook: the scenario language (TOML measures), the dated timeline, the schedule that resolves a
rate for every partner × product × date, and ``explain``, which says in words why a good pays what it pays.
Rates are fractions (0.10 = 10 %)."""
