% grid2_s1: written by foldopt
function mpc = grid2_s1
mpc.version = '2';
mpc.baseMVA = 100;

%% bus data
%	bus_i	type	Pd	Qd	Gs	Bs	area	Vm	Va	baseKV	zone	Vmax	Vmin
mpc.bus = [
	1	3	20.552572596952025	4.9090423927421822	0	0	1	1	0	230	1	1.1000000000000001	0.90000000000000002;
	2	1	14.992803953893832	4.629767682834494	0	0	1	1	0	230	1	1.1000000000000001	0.90000000000000002;
];

%% generator data
%	bus	Pg	Qg	Qmax	Qmin	Vg	mBase	status	Pmax	Pmin
mpc.gen = [
	1	28.436301240676688	0	34.123561488812022	-22.749040992541353	1	100	1	56.872602481353375	0;
];

%% generator cost data
%	2	startup	shutdown	n	c(n-1)	...	c0 (or 1 ... n x1 y1 ... xn yn)
mpc.gencost = [
	2	0	0	3	0.012516574511324798	23.078961994741753	0;
];

%% branch data
%	fbus	tbus	r	x	b	rateA	rateB	rateC	ratio	angle	status	angmin	angmax
mpc.branch = [
	1	2	0.010579523371856553	0.084922911576145316	0.021606104083935276	90	90	90	1	0	1	-30	30;
];
