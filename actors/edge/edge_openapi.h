//  edge_openapi.h — docs/openapi.yaml, printed from the route table and the message schemas,
//  so the document cannot drift from what the edge serves: `vitrine-edge --openapi` writes
//  it, and a test compares it with the committed file.
#ifndef EDGE_OPENAPI_H
#define EDGE_OPENAPI_H

#include <stdio.h>

//  Writes the OpenAPI 3.0 document (YAML). Returns 0, or -VE_IO when writing failed.
int edge_openapi_write (FILE *out);

#endif
