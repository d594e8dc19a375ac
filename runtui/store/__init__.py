"""The only code that speaks SQL: schema, writer, reader, spill files."""
