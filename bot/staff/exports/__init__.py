"""Downloads for staff: the plan's official forms ผ.01 and ผ.02 (``plan``), the queue's
submissions as CSV or XLSX (``submissions``), and the pages that serve them (``views``)."""
