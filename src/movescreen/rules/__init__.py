"""Rules: compensations flagged with evidence, joint by joint.

Each rule is data plus one small function (see :mod:`movescreen.rules.base`); thresholds live
in ``defaults.toml``. The entry point is :func:`movescreen.rules.engine.evaluate_rules`.
"""
