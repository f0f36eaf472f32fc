"""Static duties: flows × schedule → duty per partner × product pair in USD and the aggregate tables.
The local engine and the Dask engine map the same per-chunk functions."""
