"""The clock: daily tips and countdown plans. Built in the scheduler issue."""
