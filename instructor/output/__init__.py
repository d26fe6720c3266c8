"""What reaches a person, made inert first: feedback pages (HTML, maths drawn, the final
score on top), CSV cells, terminal lines, the LMS's gradebook files and feedback bundles."""
