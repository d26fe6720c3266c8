"""Diagnosis of a failing exercise: the mistake catalogue (`catalogue`), replay of the
recorded calls against it (`replay`), its conclusions as typed records (`verdict`), and the
table by which a student's visible check names a known mistake (`known_mistakes_table`)."""
