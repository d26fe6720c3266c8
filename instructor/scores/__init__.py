"""What a student's final score is made of, one definition for every page and export: the
automatic score (the gradebook), an adjustment by hand with its reason (`adjustments`), and the
late penalty (`lateness`), combined in `final_score`."""
