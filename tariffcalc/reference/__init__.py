"""Reference data that ships inside the package: countries and partner groups, the HS nomenclature and
its descriptions, and the paths of the bundled tables, scenarios, timelines and product lists
(``data/README.md`` says where every number comes from)."""
