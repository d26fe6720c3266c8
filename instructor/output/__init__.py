"""What reaches a person, made inert first: feedback pages (HTML, maths drawn, the final
score on top), CSV cells, terminal lines, and the LMS's feedback bundles."""
