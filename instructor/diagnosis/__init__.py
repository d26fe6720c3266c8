"""Diagnosis of a failing exercise: the calls the tests made to a student's function
(`recorder`), replayed against the mistake catalogue (`catalogue`, `replay`), and the table by
which a student's visible check names a known mistake (`known_mistakes_table`). Its conclusions
are typed records (`instructor.records.diagnosis`)."""
