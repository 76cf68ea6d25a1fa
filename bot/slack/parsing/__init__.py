"""One parser per verb, grouped by the play they serve: the words after the verb, checked and
turned into the use case's arguments. A parser raises UsageError with what is wrong; grammar.parse
adds the verb's usage line.

common.py   shared shapes: nothing, a project, free text, image numbers, `xK` last
project.py  new, roles, skip, reopen, budget, metrics, cancel, settings
sprint.py   sprint, rank, approve            lock.py    lock
volume.py   volume                           fix.py     fix, handoff
gate.py     sendback                         tools.py   reroll, vary, compare
"""
