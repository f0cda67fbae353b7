#!/bin/sh
echo running "$@"
