"""Running the graph: the settings resource, Dagster's instance, the job, the warehouse file and its lock."""
