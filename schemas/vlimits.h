//  vlimits.h — the limits more than one service shares, defined once. The schema tables, the
//  actors' own checks and buffers, and the edge read them from here, so a product id cannot be
//  64 bytes in the catalog and something else in the renderer.
#ifndef VLIMITS_H
#define VLIMITS_H

#define VLIM_PRODUCT_ID 64   //  bytes in a product id ([a-zA-Z0-9_-])
#define VLIM_SKU        200  //  bytes in a stock keeping unit
#define VLIM_TITLE      200  //  bytes in a product title or brand
#define VLIM_SCENE_HASH 16   //  hex digits of a scene hash (catalog.put_scene, render's keys)
#define VLIM_CURRENCY   3    //  an ISO 4217 code: EUR
#define VLIM_MONEY      1e12 //  the largest amount in minor units a message may carry
#define VLIM_SEARCH_Q   100  //  bytes of a search as analytics counts it (and suggest offers it)
#define VLIM_SEARCHES   5000 //  searches in one analytics.searches reply
#define VLIM_FRAME_BYTES (8 << 20)  //  a frame's JPEG (render.frame, the edge's frame route)

#endif
