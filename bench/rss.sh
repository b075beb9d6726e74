#!/bin/bash
# rss.sh PID OUT: samples /proc/PID/status every 2 s; the maxima of VmRSS, RssAnon, RssFile (kB) go to OUT.
pid=$1; out=$2; mr=0; ma=0; mf=0
while kill -0 $pid 2>/dev/null; do
  read r a f < <(awk '/^VmRSS/{r=$2}/^RssAnon/{a=$2}/^RssFile/{f=$2}END{print r, a, f}' /proc/$pid/status 2>/dev/null)
  [ -n "$r" ] && { [ $r -gt $mr ] && mr=$r; [ $a -gt $ma ] && ma=$a; [ $f -gt $mf ] && mf=$f; }
  echo "max VmRSS $mr kB, RssAnon $ma kB, RssFile $mf kB (now $r $a $f)" > $out
  sleep 2
done
