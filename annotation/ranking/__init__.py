"""Human ranking (Bradley-Terry over judgments) and the automatic-vs-human correlation, as a Django app."""
