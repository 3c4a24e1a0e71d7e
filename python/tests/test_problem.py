import foldopt
