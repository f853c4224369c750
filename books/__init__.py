"""Meeting books (评审材料汇编): every finalist's dossier bound into one PDF per category or per expert."""
