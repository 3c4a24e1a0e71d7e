% grid2_s2: written by foldopt
function mpc = grid2_s2
mpc.version = '2';
mpc.baseMVA = 100;

%% bus data
%	bus_i	type	Pd	Qd	Gs	Bs	area	Vm	Va	baseKV	zone	Vmax	Vmin
mpc.bus = [
	1	3	31.789670396826033	6.7495108924973746	0	0	1	1	0	230	1	1.1000000000000001	0.90000000000000002;
	2	1	13.76093302669557	4.0666748655630167	0	0	1	1	0	230	1	1.1000000000000001	0.90000000000000002;
];

%% generator data
%	bus	Pg	Qg	Qmax	Qmin	Vg	mBase	status	Pmax	Pmin
mpc.gen = [
	1	36.440482738817281	0	43.728579286580732	-29.152386191053825	1	100	1	72.880965477634561	0;
];

%% generator cost data
%	2	startup	shutdown	n	c(n-1)	...	c0 (or 1 ... n x1 y1 ... xn yn)
mpc.gencost = [
	2	0	0	3	0.014152594107534566	37.960031902347744	0;
];

%% branch data
%	fbus	tbus	r	x	b	rateA	rateB	rateC	ratio	angle	status	angmin	angmax
mpc.branch = [
	1	2	0.008214296862222515	0.059053656089774857	0.017947590777872058	88	88	88	1	0	1	-30	30;
];
