"""Writers of run outputs: spreadsheet-safe tables, the written summary, and (later) charts and the PDF."""
