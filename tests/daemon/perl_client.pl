#!/usr/bin/perl
# Drive Perl's ClamAV::Client (libclamav-client-perl, unchanged) against one
# daemon; prints one line per call for the caller to diff. It speaks the old
# unprefixed style ("SCAN path\n", "CONTSCAN path\n").
# usage: perl_client.pl unix:SOCKET|tcp:PORT TREE
use strict;
use warnings;
use ClamAV::Client;

my ($target, $tree) = @ARGV;
my $c = $target =~ /^unix:(.*)$/
    ? ClamAV::Client->new(socket_name => $1)
    : ClamAV::Client->new(socket_host => '127.0.0.1', socket_port => ($target =~ /^tcp:(\d+)$/)[0]);
print "ping: ", ($c->ping ? 1 : 0), "\n";
my $v = $c->version;
print "version: ", ($v =~ /^(ClamAV|Ward) / ? "ok" : "bad: $v"), "\n";
for my $p ("$tree/eicar.txt", "$tree/dir/clean.txt", "$tree/one") {
    my ($path, $sig) = $c->scan_path($p);
    print "scan_path: $path ", (defined $sig ? $sig : 'clean'), "\n";
}
my %r = $c->scan_path_complete("$tree/dir");
print "scan_path_complete: $_ => ", (defined $r{$_} ? $r{$_} : 'undef'), "\n" for sort keys %r;
